import HTTPServer
import Shared
import Storage

/// Who may read what through `/upload` and `/file`: any valid token reads; internal files, and every batch that
/// names one, appear only to tokens with `download.internal`.
///
/// A batch is hidden from other tokens when any of its files was declared internal or is internal now (a file
/// switched to internal after the upload hides its batches too), so a reader never learns the filenames, digests,
/// author or message that go with an internal file. Hidden things answer 404, exactly as missing ones do.
struct ReadAccess: Sendable {
    /// True when the caller holds `download.internal`.
    let seesInternal: Bool

    /// The access of `caller`; nil without a token (answer with `unauthorized`; `invalid` tokens never get here).
    static func of(_ caller: Caller) -> ReadAccess? {
        guard case .token = caller else { return nil }
        return ReadAccess(seesInternal: caller.has(.downloadInternal))
    }

    /// The 401 for a caller without a token.
    static let unauthorized = Authorization.unauthorized("reading uploads and files needs a token")

    /// The visibilities this caller may see.
    var visibilities: Set<Visibility> { seesInternal ? Set(Visibility.allCases) : [.public] }

    /// True when the caller may see `file` (as the index records it now).
    func sees(_ file: FileRecord) -> Bool { seesInternal || file.visibility == .public }

    /// True when the caller may see `batch`; may look up each file's current visibility (worker queue only).
    func sees(_ batch: BatchRecord, index: any MetadataIndex) throws(IndexError) -> Bool {
        if seesInternal { return true }
        if batch.files.contains(where: { $0.visibility == .internal }) { return false }
        for file in batch.files {
            if try index.file(file.digest)?.visibility == .internal { return false }
        }
        return true
    }

    /// A search route: `body` with the caller's access and the `q` text, or the answer for a caller without a token
    /// (401) or a malformed query string (400).
    static func search(
        _ head: HTTPRequestHead, caller: Caller,
        _ body: (ReadAccess, String) -> HTTPRequestAction
    ) -> HTTPRequestAction {
        search(head, caller: caller) { access, query in body(access, query["q"] ?? "") }
    }

    /// A search route that reads more than `q`: `body` with the caller's access and the whole parsed query string.
    static func search(
        _ head: HTTPRequestHead, caller: Caller,
        _ body: (ReadAccess, QueryString) -> HTTPRequestAction
    ) -> HTTPRequestAction {
        guard let access = of(caller) else { return .respond(unauthorized) }
        guard let query = QueryString(head.query) else {
            return .respond(
                APIFailure.badRequest(.badRequest, "the query string is malformed").response(user: caller.user))
        }
        return body(access, query)
    }
}
