import Synchronization

/// The server's certificate and key (`serve --tls-cert/--tls-key`), reloadable while it runs.
///
/// New connections take `current`; `reload()` reads the files again and swaps in a new context only when it loads
/// and passes every check, so a bad file keeps the old certificate. Connections already open keep the context they
/// began with. Thread-safe: the context lives in a `Mutex`. `reload()` reads files: call it from a thread that is
/// not an event loop (the `SIGHUP` handler's).
public final class TLSCertificateStore: Sendable {
    /// The certificate file (PEM; the chain may follow the certificate).
    public let certificateFile: String
    /// The private key file (PEM).
    public let keyFile: String
    /// Whether kernel TLS is asked for (`auto` and the kernel offers it).
    public let kernelTLS: Bool
    /// The `--tls-ktls` mode it was made with.
    public let kernelTLSMode: KernelTLSMode
    /// Seconds a session stays resumable; also the ticket-key rotation interval.
    public let sessionLifetime: Int
    private let context: Mutex<TLSContext>

    /// Loads the files; throws a `TLSError` naming the file and the problem (unreadable, not PEM, key not matching,
    /// expired or not yet valid). `kernelTLS` is `.auto` or `.off`; `auto` uses kernel TLS only where
    /// `KernelTLSMode.kernelOffersTLS`.
    public init(
        certificateFile: String, keyFile: String, kernelTLS mode: KernelTLSMode = .auto,
        sessionLifetime: Int = 3600
    ) throws(TLSError) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        let kernelTLS = mode == .auto && KernelTLSMode.kernelOffersTLS
        self.kernelTLS = kernelTLS
        kernelTLSMode = mode
        self.sessionLifetime = sessionLifetime
        TLSTicketKeys.setRotationInterval(Double(sessionLifetime))
        context = Mutex(
            try TLSContext(
                certificateFile: certificateFile, keyFile: keyFile, kernelTLS: kernelTLS,
                sessionLifetime: sessionLifetime))
    }

    /// The context new connections use.
    var current: TLSContext { context.withLock { $0 } }

    /// The current certificate's subject and expiry, for the log.
    public var summary: String { current.summary }

    /// Reads the files again; on success new connections get the new certificate, on failure (thrown) nothing
    /// changes.
    public func reload() throws(TLSError) {
        let fresh = try TLSContext(
            certificateFile: certificateFile, keyFile: keyFile, kernelTLS: kernelTLS,
            sessionLifetime: sessionLifetime)
        context.withLock { $0 = fresh }
    }

    /// Which path large file bodies take over TLS, for the start-up log line.
    public var fileBodyPath: String {
        if kernelTLS {
            return
                "kernel TLS (SSL_OP_ENABLE_KTLS; file bodies over 64 KiB go out with SSL_sendfile where a connection's cipher is offloaded, else as below)"
        }
        return "SSL_write of 64 KiB pieces read from the file (no kernel TLS: "
            + (kernelTLSMode == .off ? "--tls-ktls off)" : "/proc/sys/net/ipv4/tcp_available_ulp lists no tls)")
    }
}
