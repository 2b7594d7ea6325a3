import HTTPServer
import Shared
import Storage

/// One operation of `PATCH /file/sha512/<digest>`.
enum FileOperation: Equatable {
    /// `{"op": "set_visibility", "visibility": "public" | "internal"}`.
    case setVisibility(Visibility)
    /// `{"op": "delete_instances"}`.
    case deleteInstances

    /// Parses the body: a JSON list of operations (400 for anything else, an unknown op or visibility).
    static func list(_ document: JSONValue) throws(APIFailure) -> [FileOperation] {
        guard let elements = document.arrayValue else {
            throw .badRequest(.badRequest, "the body must be a JSON list of operations, got \(document.typeName)")
        }
        var operations: [FileOperation] = []
        for (index, element) in elements.enumerated() {
            guard element.objectValue != nil else {
                throw .badRequest(.badRequest, "operation \(index) must be an object, got \(element.typeName)")
            }
            guard let op = element["op"]?.stringValue else {
                throw .badRequest(.badRequest, "operation \(index) needs \"op\" as a string")
            }
            switch op {
            case "delete_instances":
                operations.append(.deleteInstances)
            case "set_visibility":
                guard let name = element["visibility"]?.stringValue, let visibility = Visibility(name: name) else {
                    let got = element["visibility"].map { JSONWriter.write($0) } ?? "nothing"
                    throw .badRequest(
                        .badVisibility, "operation \(index): visibility must be public or internal, got \(got)")
                }
                operations.append(.setVisibility(visibility))
            default:
                throw .badRequest(
                    .badOperation,
                    "operation \(index): op must be set_visibility or delete_instances, got \(op.debugDescription)")
            }
        }
        return operations
    }
}

extension FileRoutes {
    /// `PATCH /file/sha512/<digest>` with a list of operations; needs `manage` (checked before the body is read).
    /// Applies them in order and answers 200 with the updated FILE (its batches as the caller may read them); 404 for
    /// an unknown digest; 409 with
    /// `X-Retry-After` while a PUT of the digest is in flight (its outcome would race the change).
    func patch(_ head: HTTPRequestHead, digest: Digest, caller: Caller) -> HTTPRequestAction {
        if let denial = Authorization.require(.manage, caller) {
            return .respond(UploadBatchRoutes.closing(denial, head))
        }
        let context = self.context
        return api.withJSONBody(head, caller, "changing file \(digest.hex)") { document in
            let operations = try FileOperation.list(document)
            if try context.inFlight.contains(digest) {
                let seconds = context.configuration.uploadRetryAfter
                throw APIFailure(
                    status: .conflict, name: .uploadInProgress,
                    description: "an upload of \(digest.hex) is in progress; try again in \(seconds) s",
                    headers: [("X-Retry-After", String(seconds))])
            }
            try context.reconcile(digest)
            guard try context.index.file(digest) != nil else {
                throw APIFailure.notFound("no file with digest \(digest.hex)")
            }
            for operation in operations {
                switch operation {
                case .setVisibility(let visibility):
                    try context.catalog.setVisibility(digest, to: visibility, mustBeStored: false)
                    ServerLog.info("\(digest.hex) set to \(visibility.rawValue) by \(caller.user ?? "-")")
                case .deleteInstances:
                    try context.catalog.deleteInstances(digest)
                    ServerLog.info("\(digest.hex) instances deleted by \(caller.user ?? "-")")
                }
            }
            // `manage` changes files but does not read internal ones: without `download.internal` the answer for a
            // file that is internal now is its bare record (no filenames, authors or messages from its batches).
            let access = ReadAccess(seesInternal: caller.has(.downloadInternal))
            guard let details = try context.index.fileDetails(digest) else {
                throw APIFailure.notFound("no file with digest \(digest.hex)")
            }
            if !access.sees(details.file) { return APIResponse.result(FileJSON.details(details.file, batches: [])) }
            return APIResponse.result(try Self.visible(details, access: access, context: context))
        }
    }
}
