import HTTPServer
import Shared

/// The two JSON shapes every route answers with: `{"result": ...}` on success, the shared error body otherwise.
enum APIResponse {
    /// `{"result": value}` with `Content-Type: application/json`.
    static func result(_ value: JSONValue, status: HTTPStatus = .ok, user: String? = nil) -> HTTPResponse {
        var response = HTTPResponse.json(status: status, text: JSONWriter.write(["result": value]))
        response.logUser = user
        return response
    }

    /// A JSON document as it is.
    static func json(_ value: JSONValue, status: HTTPStatus = .ok, user: String? = nil) -> HTTPResponse {
        var response = HTTPResponse.json(status: status, text: JSONWriter.write(value))
        response.logUser = user
        return response
    }

    /// The shared error body with its status.
    static func error(
        _ status: HTTPStatus, _ name: APIErrorName, _ description: String, close: Bool = false,
        headers: [(String, String)] = [], user: String? = nil
    ) -> HTTPResponse {
        var response = HTTPResponse.error(status: status, name: name, description: description, closeConnection: close)
        for (header, value) in headers { response.headers.add(header, value) }
        response.logUser = user
        return response
    }

    /// A bare 500: the cause is logged in full on the server, never sent.
    static func internalError(_ context: String, _ error: any Error, user: String? = nil) -> HTTPResponse {
        ServerLog.error("\(context): \(error)")
        return self.error(.internalServerError, .internalServerError, "the server failed; see its log", user: user)
    }
}
