/// Collects a small body (e.g. JSON) in memory up to `limit` bytes, then hands it to a closure with a responder.
/// Past the limit it answers 413 with the JSON error body and the connection closes.
///
/// Loop thread only, like every `HTTPBodyConsumer`.
public final class BufferedBodyConsumer: HTTPBodyConsumer {
    /// What to do with the complete body: answer through the responder, now or later.
    public typealias Completion = (HTTPRequestHead, [UInt8], HTTPResponder) -> Void

    private let head: HTTPRequestHead
    private let limit: Int
    private let completion: Completion
    private var bytes: [UInt8] = []

    /// A consumer for the body of `head`, holding at most `limit` bytes.
    public init(head: HTTPRequestHead, limit: Int, completion: @escaping Completion) {
        self.head = head
        self.limit = limit
        self.completion = completion
        if let length = head.contentLength, length <= Int64(limit) { bytes.reserveCapacity(Int(length)) }
    }

    /// The action for `head`: 413 before reading when `Content-Length` is already over `limit`, else read the body.
    public static func action(
        for head: HTTPRequestHead, limit: Int, completion: @escaping Completion
    ) -> HTTPRequestAction {
        if let length = head.contentLength, length > Int64(limit) {
            return .respond(tooLarge(limit))
        }
        return .readBody(BufferedBodyConsumer(head: head, limit: limit, completion: completion))
    }

    /// Appends the chunk, or answers 413 once the body outgrows the limit.
    public func consume(_ chunk: UnsafeRawBufferPointer, flow: HTTPBodyFlow) -> HTTPConsumeResult {
        guard bytes.count + chunk.count <= limit else { return .stop(Self.tooLarge(limit)) }
        bytes.append(contentsOf: chunk)
        return .proceed
    }

    /// Hands the whole body to the completion.
    public func end(responder: HTTPResponder) {
        completion(head, bytes, responder)
        bytes = []
    }

    /// Drops the partial body.
    public func abort() { bytes = [] }

    private static func tooLarge(_ limit: Int) -> HTTPResponse {
        .error(status: .contentTooLarge, name: .contentTooLarge, description: "the body is larger than \(limit) bytes")
    }
}
