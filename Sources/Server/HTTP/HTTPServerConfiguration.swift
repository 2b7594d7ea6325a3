/// Everything the HTTP layer can be tuned with; every field has a documented default.
///
/// Times are seconds. Limits are checked while the request head streams in, so a hostile client never makes the
/// server buffer more than `maxHeaderBytes` of head per connection.
public struct HTTPServerConfiguration: Sendable {
    /// Address to bind: an IPv4/IPv6 literal or a host name. Default `127.0.0.1`.
    public var host: String = "127.0.0.1"
    /// TCP port; 0 picks a free port (read it back from `HTTPServer.start()`). Default 8080.
    public var port: Int = 8080
    /// With a TLS certificate (`HTTPServer`'s `tls`): nil makes `port` speak TLS only; a port number (0 picks a free
    /// one) adds a TLS listener there and keeps `port` plain HTTP. Ignored without a certificate. Default nil.
    public var tlsPort: Int?
    /// Number of event loops (threads), all accepting from the one listening socket. Default 1.
    public var threads: Int = 1
    /// Longest request line or header line (name + value), in bytes. Default 8 KiB.
    public var maxHeaderLineBytes: Int = 8 * 1024
    /// Longest request head (request line and all headers), in bytes. Default 64 KiB.
    public var maxHeaderBytes: Int = 64 * 1024
    /// Most header fields in one request. Default 100.
    public var maxHeaderCount: Int = 100
    /// Deadline for a whole request head, from its first byte (from accept for a new connection). Default 20 s.
    public var headerTimeout: Double = 20
    /// Longest time a request body or a response may go without progress. Default 30 s.
    public var bodyStallTimeout: Double = 30
    /// Longest time a keep-alive connection may sit between requests. Default 60 s.
    public var idleTimeout: Double = 60
    /// Most open connections over all loops; past it the oldest idle keep-alive connection of the accepting loop is
    /// closed, or, if it has none, the new one gets 503 and a close. Default 10,000.
    public var maxConnections: Int = 10_000
    /// How long `stop()` lets requests in flight finish before closing everything. Default 10 s.
    public var gracefulStopTimeout: Double = 10
    /// After a response that ends a connection whose request was not fully read, how long to discard what the client
    /// still sends before closing (closing with unread data would reset the connection and could destroy the
    /// response before the client reads it). Default 2 s.
    public var lingerTimeout: Double = 2
    /// Where the access logger's lines are written (the descriptor stays open; the server never closes it).
    /// Default 2 (stderr).
    public var accessLogDescriptor: Int32 = 2

    /// The defaults above.
    public init() {}

    /// Defaults with the given address.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}
