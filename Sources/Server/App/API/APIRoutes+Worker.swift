import HTTPServer
import Shared
import Storage

extension APIRoutes {
    /// Answers from the worker queue with what `job` returns; a thrown failure becomes its error answer.
    func later(
        _ caller: Caller, _ what: String,
        _ job: @escaping @Sendable () throws -> HTTPResponse
    ) -> HTTPRequestAction {
        let context = self.context
        return .respondLater { responder in
            context.worker.async { responder.send(Self.answer(what, user: caller.user, job)) }
        }
    }

    /// Reads a JSON body of at most `maxJSONBodySize` bytes (413 past it), then runs `job` on the worker queue with
    /// the parsed document. Malformed JSON (including nesting past the parser's depth limit) answers 400 `BadJSON`.
    func withJSONBody(
        _ head: HTTPRequestHead, _ caller: Caller, _ what: String,
        _ job: @escaping @Sendable (JSONValue) throws -> HTTPResponse
    ) -> HTTPRequestAction {
        let context = self.context
        return BufferedBodyConsumer.action(for: head, limit: context.configuration.maxJSONBodySize) {
            _, bytes, responder in
            context.worker.async {
                responder.send(
                    Self.answer(what, user: caller.user) {
                        try job(try Self.parseJSON(bytes))
                    })
            }
        }
    }

    /// The body as JSON, or 400 `BadJSON` saying where it went wrong.
    static func parseJSON(_ bytes: [UInt8]) throws(APIFailure) -> JSONValue {
        do { return try JSONParser.parse(bytes) } catch {
            throw .badRequest(.badJSON, "the body must be JSON: \(error.description)")
        }
    }

    /// Runs `job` and turns what it throws into its answer (`APIFailure.response(for:)`: client faults with their
    /// status, anything else a bare 500 with the cause logged).
    static func answer(_ what: String, user: String?, _ job: () throws -> HTTPResponse) -> HTTPResponse {
        do {
            var response = try job()
            response.logUser = user
            return response
        } catch {
            return APIFailure.response(for: error, what, user: user)
        }
    }
}
