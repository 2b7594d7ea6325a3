/// The paging and search parameters of `GET /upload`: `q`, `before` (a batch id) and `limit`.
struct BatchPage: Sendable {
    /// The most batches one page may ask for.
    static let maxLimit = 200
    /// The page size when no `limit` is given (tooltool's answer holds at most 50).
    static let defaultLimit = 50

    /// The search text; empty lists every batch.
    let text: String
    /// Only batches with a smaller id; nil from the newest.
    let before: Int64?
    /// How many batches to look at (before hiding those the caller may not see).
    let limit: Int

    /// Reads the parameters; 400 `BadRequest` for a malformed `before` or a `limit` outside 1...`maxLimit`.
    init(_ query: QueryString) throws(APIFailure) {
        text = query["q"] ?? ""
        if let raw = query["before"] {
            guard let id = APIRoutes.batchID(Substring(raw)) else {
                throw .badRequest(
                    .badRequest, "before must be a batch id (1 to 18 digits), got \(raw.debugDescription)")
            }
            before = id
        } else {
            before = nil
        }
        if let raw = query["limit"] {
            guard let value = Int(raw), (1...Self.maxLimit).contains(value) else {
                throw .badRequest(
                    .badRequest, "limit must be a number from 1 to \(Self.maxLimit), got \(raw.debugDescription)")
            }
            limit = value
        } else {
            limit = Self.defaultLimit
        }
    }

    /// The target of the page after this one, which starts below batch `before`.
    func next(before id: Int64) -> String {
        var pairs: [(String, String)] = []
        if !text.isEmpty { pairs.append(("q", text)) }
        pairs.append(("before", String(id)))
        pairs.append(("limit", String(limit)))
        return "/upload?" + QueryString.encode(pairs)
    }
}
