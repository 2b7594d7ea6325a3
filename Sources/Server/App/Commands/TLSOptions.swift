import ArgumentParser
import Dispatch
import FoundationEssentials
import Glibc
import HTTPServer

extension KernelTLSMode: ExpressibleByArgument {}

/// `serve`'s HTTPS flags: a certificate and key make the server speak TLS on `--port`, or on `--tls-port` beside
/// plain HTTP on `--port`.
struct TLSOptions: ParsableArguments {
    @Option(
        name: .customLong("tls-cert"),
        help: "PEM certificate (then any intermediates) to serve HTTPS with; needs --tls-key.")
    var certificate: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.")
    var key: String?
    @Option(
        name: .customLong("tls-port"),
        help:
            "Serve HTTPS on this port and keep plain HTTP on --port (default: HTTPS on --port only); 0 picks a free one."
    )
    var port: Int?
    @Option(
        name: .customLong("tls-ktls"),
        help: "Kernel TLS for large GETs: auto (when the kernel offers the tls ULP) or off (SSL_write of file pieces).")
    var kernelTLS: KernelTLSMode = .auto
    @Option(
        name: .customLong("tls-ticket-rotation"),
        help: "Seconds between session-ticket key rotations; sessions stay resumable this long.")
    var ticketRotation = 3600

    /// Checks the flags go together.
    func validate() throws {
        if (certificate == nil) != (key == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if certificate == nil {
            if port != nil { throw ValidationError("--tls-port needs --tls-cert and --tls-key") }
            return
        }
        if let port, !(0...65535).contains(port) { throw ValidationError("--tls-port must be 0 to 65535, got \(port)") }
        guard ticketRotation >= 1 else {
            throw ValidationError("--tls-ticket-rotation must be at least 1, got \(ticketRotation)")
        }
    }

    /// The certificate store, or nil without `--tls-cert`; a clear error for a bad file.
    func makeStore() throws -> TLSCertificateStore? {
        guard let certificate, let key else { return nil }
        do {
            return try TLSCertificateStore(
                certificateFile: certificate, keyFile: key, kernelTLS: kernelTLS,
                sessionLifetime: ticketRotation)
        } catch {
            throw CommandFailure("cannot serve HTTPS: \(error)")
        }
    }

    /// Reloads `store` on each SIGHUP (on a Dispatch thread, never an event loop: the files are read there); a
    /// file that fails keeps the old certificate, and the log says why.
    static func reloadOnHangUp(_ store: TLSCertificateStore) -> DispatchSourceSignal {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler {
            do {
                try store.reload()
                ServerLog.info("SIGHUP: reloaded the TLS certificate: \(store.summary); new connections use it")
            } catch {
                ServerLog.error("SIGHUP: kept the old TLS certificate: \(error)")
            }
        }
        source.resume()
        return source
    }
}
