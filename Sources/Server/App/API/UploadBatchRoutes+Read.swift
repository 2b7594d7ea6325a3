import HTTPServer
import Shared
import Storage

extension UploadBatchRoutes {
    /// `GET /upload?q=TEXT`: `{"result": [BATCH, ...]}` whose author or message contains TEXT (case-insensitive),
    /// newest first, at most 50 before hiding; no `q` lists the newest batches.
    func search(_ head: HTTPRequestHead, caller: Caller) -> HTTPRequestAction {
        let context = self.context
        return ReadAccess.search(head, caller: caller) { access, text in
            api.later(caller, "searching batches") {
                var result: [JSONValue] = []
                for batch in try context.index.searchBatches(text) {
                    if try access.sees(batch, index: context.index) { result.append(BatchJSON.batch(batch)) }
                }
                return APIResponse.result(.array(result))
            }
        }
    }

    /// `GET /upload/<id>`: `{"result": BATCH}` (no `put_url`s), or 404.
    func get(id: Int64, caller: Caller) -> HTTPRequestAction {
        visibleBatch(id: id, caller: caller) { APIResponse.result(BatchJSON.batch($0)) }
    }

    /// `GET /upload/<id>/manifest`: the batch as a tooltool manifest, byte for byte as tooltool.py writes one.
    func manifest(id: Int64, caller: Caller) -> HTTPRequestAction {
        visibleBatch(id: id, caller: caller) { batch in
            HTTPResponse.json(status: 200, text: BatchJSON.manifest(batch).serialized())
        }
    }

    /// Loads batch `id` on the worker and answers with `render(batch)`, or 404 when it is missing or hidden.
    private func visibleBatch(id: Int64, caller: Caller,
                              _ render: @escaping @Sendable (BatchRecord) -> HTTPResponse) -> HTTPRequestAction {
        guard let access = ReadAccess.of(caller) else { return .respond(ReadAccess.unauthorized) }
        let context = self.context
        return api.later(caller, "reading batch \(id)") {
            guard let batch = try context.index.batch(id: id), try access.sees(batch, index: context.index) else {
                throw APIFailure.notFound("no batch with id \(id)")
            }
            return render(batch)
        }
    }
}
