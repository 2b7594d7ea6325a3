import Shared

/// A request's line and headers, validated by the layer before any handler sees them.
public struct HTTPRequestHead: Sendable {
    /// The method, e.g. `.get`.
    public var method: HTTPMethod
    /// The raw request-target, e.g. `/sha512/ab?x=1`.
    public var target: String
    /// The raw path: the target before any `?` (not percent-decoded).
    public var path: String
    /// The raw query after `?`, or nil when there is none.
    public var query: String?
    /// The request's HTTP version (1.0 or 1.1).
    public var version: HTTPVersion
    /// The header fields in order.
    public var headers: HTTPHeaders
    /// The `Content-Length`, or nil when the request has none (then it has no body).
    public var contentLength: Int64?
    /// The client's IP address.
    public var remoteAddress: String
    /// True when the request came over TLS (a `serve --tls-cert` port).
    public var isSecure = false

    /// True for `HEAD`: the response keeps its real `Content-Length` but the layer sends no body.
    public var isHead: Bool { method == .head }

    /// A head with the given fields; `path` and `query` are split from `target`.
    public init(
        method: HTTPMethod, target: String, version: HTTPVersion = .http11, headers: HTTPHeaders = HTTPHeaders(),
        contentLength: Int64? = nil, remoteAddress: String = ""
    ) {
        self.method = method
        self.target = target
        // Searched as contiguous bytes: a `Character` (or even `UTF8View`) search cost more than the rest of a blob
        // request's routing.
        var copy = target
        let mark: Int? = copy.withUTF8 { bytes in bytes.firstIndex(of: UInt8(ascii: "?")) }
        if let mark {
            let index = target.utf8.index(target.utf8.startIndex, offsetBy: mark)
            path = String(target[..<index])
            query = String(target[target.utf8.index(after: index)...])
        } else {
            path = target
            query = nil
        }
        self.version = version
        self.headers = headers
        self.contentLength = contentLength
        self.remoteAddress = remoteAddress
    }
}
