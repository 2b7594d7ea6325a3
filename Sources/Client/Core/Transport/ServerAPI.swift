import Shared

/// JSON calls to a tooltool server's API (`/upload`, `/file`), with the server's error body turned into messages.
struct ServerAPI {
    /// The server's base URL.
    let baseURL: String
    /// Sent as `Authorization: Bearer ...` when set.
    let token: String?
    /// The handle the calls run on.
    let easy: CurlEasy

    /// A JSON answer.
    struct Answer {
        /// The response's status and headers.
        let response: HTTPResponse
        /// The parsed body; `.null` when empty or not JSON.
        let json: JSONValue
        /// The raw body.
        let body: [UInt8]
    }

    /// `base` + `path` (which starts with `/`), whatever trailing slashes `base` has.
    static func url(base: String, path: String) -> String {
        var base = base
        while base.hasSuffix("/") { base.removeLast() }
        return base + path
    }

    /// Sends `method path` with an optional JSON body; returns any HTTP answer, throws only when none came.
    func call(_ method: HTTPMethod, _ path: String, json: JSONValue? = nil) throws(ClientError) -> Answer {
        var request = HTTPRequest(url: ServerAPI.url(base: baseURL, path: path))
        request.method = method
        request.bearerToken = token
        request.headers.append("Accept: application/json")
        if let json {
            request.body = .bytes(Array(JSONWriter.write(json).utf8))
            request.headers.append("Content-Type: application/json")
        }
        let sink = MemorySink()
        switch try easy.perform(request, sink: sink) {
        case .failure(let error):
            throw ClientError(.network, "\(method) \(request.url): \(error.message)")
        case .success(let response):
            let parsed = (try? JSONParser.parse(sink.bytes)) ?? .null
            return Answer(response: response, json: parsed, body: sink.bytes)
        }
    }

    /// The error for an unexpected answer: the server's description when it sent the error body.
    static func failure(_ what: String, _ answer: Answer) -> ClientError {
        if let error = APIError(body: answer.body) {
            return ClientError(.network, "\(what): HTTP \(answer.response.status): \(error.description)")
        }
        return ClientError(.network, "\(what): HTTP \(answer.response.status)")
    }
}
