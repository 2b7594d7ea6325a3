import HTTPServer
import Shared
import Storage

extension UploadBatchRoutes {
    /// `GET /upload?q=TEXT&before=ID&limit=N`: `{"result": [BATCH, ...]}` whose author or message contains TEXT
    /// (case-insensitive; no `q` lists every batch), newest first, with ids below `before` when given, `limit`
    /// (default 50, at most 200) looked at before hiding. When there may be more, a
    /// `Link: </upload?...&before=ID>; rel="next"` header names the next page. Without `before` and `limit` the body
    /// is tooltool's answer.
    func search(_ head: HTTPRequestHead, caller: Caller) -> HTTPRequestAction {
        let context = self.context
        return ReadAccess.search(head, caller: caller) { (access: ReadAccess, query: QueryString) in
            let page: BatchPage
            do throws(APIFailure) { page = try BatchPage(query) } catch {
                return .respond(error.response(user: caller.user))
            }
            return api.later(caller, "searching batches") {
                let found = try context.index.searchBatches(page.text, before: page.before, limit: page.limit)
                var result: [JSONValue] = []
                for batch in found {
                    if try access.sees(batch, index: context.index) { result.append(BatchJSON.batch(batch)) }
                }
                var response = APIResponse.result(.array(result))
                if found.count == page.limit, let last = found.last {
                    response.headers.add("Link", "<\(page.next(before: last.id))>; rel=\"next\"")
                }
                return response
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
            HTTPResponse.json(status: .ok, text: BatchJSON.manifest(batch).serialized())
        }
    }

    /// Loads batch `id` on the worker and answers with `render(batch)`, or 404 when it is missing or hidden.
    private func visibleBatch(
        id: Int64, caller: Caller,
        _ render: @escaping @Sendable (BatchRecord) -> HTTPResponse
    ) -> HTTPRequestAction {
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
