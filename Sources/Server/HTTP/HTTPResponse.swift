/// A response: status, headers and body. The layer adds `Content-Length` and `Connection` itself.
public struct HTTPResponse: Sendable {
    /// The status, e.g. `.ok`.
    public var status: HTTPStatus
    /// Header fields; a `Content-Length` here is kept only on a response to HEAD (the layer otherwise writes the
    /// body's real length).
    public var headers: HTTPHeaders
    /// More fields, already in wire form, written after `headers`.
    public var headerBlock: HTTPHeaderBlock
    /// The body.
    public var body: HTTPResponseBody
    /// Close the connection once this response is sent.
    public var closeConnection: Bool
    /// Who made the request, for the access log only (never sent).
    public var logUser: String?

    /// A response with the given parts.
    public init(
        status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), headerBlock: HTTPHeaderBlock = HTTPHeaderBlock(),
        body: HTTPResponseBody = .empty, closeConnection: Bool = false, logUser: String? = nil
    ) {
        self.status = status
        self.headers = headers
        self.headerBlock = headerBlock
        self.body = body
        self.closeConnection = closeConnection
        self.logUser = logUser
    }

    /// A JSON response: `text` as the body and `Content-Type: application/json`.
    public static func json(status: HTTPStatus, text: String, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var all = headers
        all.replace("Content-Type", "application/json")
        return HTTPResponse(status: status, headers: all, body: .bytes(Array(text.utf8)))
    }

    /// A plain-text response (`text/plain; charset=utf-8`).
    public static func text(status: HTTPStatus, _ text: String) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: .bytes(Array(text.utf8)))
    }
}
