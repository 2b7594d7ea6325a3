import Shared

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import FoundationEssentials
#endif

/// One line of the access log, reported when a response has been written (or its connection ended).
public struct HTTPAccessLogEntry: Sendable {
    /// When the request's head started to arrive.
    public var time: Date
    /// The client's IP address.
    public var remoteAddress: String
    /// The response's `logUser`, if any.
    public var user: String?
    /// The request method; nil when the head could not be parsed (the log shows `-`).
    public var method: HTTPMethod?
    /// The raw path, never the query (it may hold a URL signature).
    public var path: String
    /// The response status.
    public var status: HTTPStatus
    /// Bytes of the response written to the socket (head and body).
    public var bytesSent: Int64
    /// Bytes of the request read from the socket (head and body).
    public var bytesReceived: Int64
    /// Seconds from the first byte of the request to the last byte of the response.
    public var duration: Double
}
