import HTTPServer
import Shared
import Storage

/// `GET /file?q=TEXT` and `GET /file/sha512/<digest>`; the `PATCH` is in `FileRoutes+Patch.swift`.
struct FileRoutes: Sendable {
    let api: APIRoutes
    var context: ServerContext { api.context }

    /// `GET /file?q=TEXT`: `{"result": [FILE, ...]}` for files a batch named with a filename containing TEXT
    /// (most recently named first) or whose digest starts with TEXT, at most 100. `has_instances` is the index's view.
    func search(_ head: HTTPRequestHead, caller: Caller) -> HTTPRequestAction {
        let context = self.context
        return ReadAccess.search(head, caller: caller) { access, text in
            api.later(caller, "searching files") {
                let files = try context.index.searchFiles(text, visibilities: access.visibilities)
                return APIResponse.result(.array(files.map(FileJSON.file)))
            }
        }
    }

    /// `GET /file/sha512/<digest>`: `{"result": FILE}` with the batches that named it, or 404 (also for an internal
    /// file asked for by a token without `download.internal`).
    func get(digest: Digest, caller: Caller) -> HTTPRequestAction {
        guard let access = ReadAccess.of(caller) else { return .respond(ReadAccess.unauthorized) }
        let context = self.context
        return api.later(caller, "reading file \(digest.hex)") {
            try context.reconcile(digest)
            return APIResponse.result(try Self.details(digest, access: access, context: context))
        }
    }

    /// The FILE with its visible batches, or a 404 failure. Worker queue only.
    static func details(_ digest: Digest, access: ReadAccess, context: ServerContext) throws -> JSONValue {
        guard let details = try context.index.fileDetails(digest), access.sees(details.file) else {
            throw APIFailure.notFound("no file with digest \(digest.hex)")
        }
        return try visible(details, access: access, context: context)
    }

    /// `details` as JSON with only the batches `access` may read. Worker queue only.
    static func visible(_ details: FileDetails, access: ReadAccess, context: ServerContext) throws -> JSONValue {
        var batches: [FileMention] = []
        for mention in details.batches {
            if access.seesInternal { batches.append(mention); continue }
            if let batch = try context.index.batch(id: mention.batchID), try access.sees(batch, index: context.index) {
                batches.append(mention)
            }
        }
        return FileJSON.details(details.file, batches: batches)
    }
}
