import ArgumentParser
import CEvent
import Dispatch
import FoundationEssentials
import Glibc
import HTTPServer
import Posix
import Shared
import Storage

/// `tooltool-server serve`: runs the HTTP server on the store.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve the store over HTTP.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var tls: TLSOptions

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one.") var port = 8080
    @Option(name: .customLong("public-url"), help: "Base URL for signed upload URLs (default: the request's Host).")
    var publicURL: String?
    @Option(help: "Event loops sharing the listening socket (default: one per core).") var threads: Int?
    @Option(name: .customLong("max-upload-size"), help: "Largest upload accepted, in bytes.")
    var maxUploadSize: Int64 = ServerConfiguration().maxUploadSize
    @Flag(name: .customLong("no-anonymous-public"), help: "Require download.public to fetch public blobs.")
    var noAnonymousPublic = false
    @Option(name: .customLong("signed-url-lifetime"), help: "Seconds a signed upload URL stays good.")
    var signedURLLifetime: Int64 = 3600
    @Option(
        name: .customLong("upload-lease"),
        help: "Seconds an upload in flight stays visible to other servers on a shared index without renewal.")
    var uploadLease: Int64 = ServerConfiguration().uploadLease
    @Option(name: .customLong("max-header-line"), help: "Longest header line, in bytes.")
    var maxHeaderLine = HTTPServerConfiguration().maxHeaderLineBytes
    @Option(name: .customLong("max-header-size"), help: "Largest request head, in bytes.")
    var maxHeaderSize = HTTPServerConfiguration().maxHeaderBytes
    @Option(name: .customLong("max-headers"), help: "Most header fields in one request.")
    var maxHeaders = HTTPServerConfiguration().maxHeaderCount
    @Option(name: .customLong("header-timeout"), help: "Seconds a client has to send a whole request head.")
    var headerTimeout = HTTPServerConfiguration().headerTimeout
    @Option(name: .customLong("body-timeout"), help: "Seconds a request body may stall.")
    var bodyTimeout = HTTPServerConfiguration().bodyStallTimeout
    @Option(name: .customLong("idle-timeout"), help: "Seconds an idle keep-alive connection is kept.")
    var idleTimeout = HTTPServerConfiguration().idleTimeout
    @Option(name: .customLong("max-connections"), help: "Most open connections; past it the oldest idle ones close.")
    var maxConnections = HTTPServerConfiguration().maxConnections
    @Option(name: .customLong("sweep-interval"), help: "Seconds between two sweeps of stale upload temp files.")
    var sweepInterval = ServerConfiguration().sweepInterval

    @Option(
        name: .customLong("upstream"),
        help: "Mirror this tooltool server (repeatable, tried in order): fetch, verify and keep the blobs asked for.")
    var upstreams: [String] = []
    @Option(name: .customLong("upstream-connect-timeout"), help: "Seconds allowed to connect to an upstream.")
    var upstreamConnectTimeout = ServerConfiguration().upstreamConnectTimeout
    @Option(name: .customLong("upstream-stall-timeout"), help: "Seconds an upstream transfer may move no byte.")
    var upstreamStallTimeout = ServerConfiguration().upstreamStallTimeout
    @Option(
        name: .customLong("upstream-auth-ttl"),
        help: "Seconds a mirror trusts its upstream's word on a token's pvt access and a blob's visibility.")
    var upstreamAuthTTL = ServerConfiguration().upstreamAuthTTL
    @Option(
        name: .customLong("max-cache-size"),
        help: "With --upstream: bytes of fetched blobs kept before the least recently used go (e.g. 10G, 512M).")
    var maxCacheSize: ByteSize?

    func validate() throws {
        for upstream in upstreams {
            guard let url = URL(string: upstream), ["http", "https"].contains(url.scheme ?? ""), url.host != nil,
                url.query == nil
            else {
                throw ValidationError("--upstream must be an http:// or https:// URL without a query, got \(upstream)")
            }
        }
        if !upstreams.isEmpty, case .s3 = try store.blobStoreLocation() {
            throw ValidationError("--upstream needs the disk store: a mirror on S3 is not supported yet")
        }
        if maxCacheSize != nil, upstreams.isEmpty {
            throw ValidationError("--max-cache-size needs --upstream: only a mirror's cache is evicted")
        }
        for (name, value) in [
            ("--upstream-connect-timeout", upstreamConnectTimeout), ("--upstream-stall-timeout", upstreamStallTimeout),
            ("--upstream-auth-ttl", upstreamAuthTTL)
        ]
        where value < 1 { throw ValidationError("\(name) must be at least 1, got \(value)") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535, got \(port)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        guard maxUploadSize >= 0 else { throw ValidationError("--max-upload-size must not be negative") }
        guard uploadLease >= 3 else {
            throw ValidationError("--upload-lease must be at least 3 seconds, got \(uploadLease)")
        }
        guard signedURLLifetime > 0 else { throw ValidationError("--signed-url-lifetime must be positive") }
        if let publicURL {
            guard let url = URL(string: publicURL), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw ValidationError("--public-url must be an http:// or https:// URL, got \(publicURL)")
            }
        }
        for (name, value) in [
            ("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout), ("--idle-timeout", idleTimeout),
            ("--sweep-interval", sweepInterval)
        ]
        where value <= 0 { throw ValidationError("\(name) must be positive, got \(value)") }
        for (name, value) in [
            ("--max-header-line", maxHeaderLine), ("--max-header-size", maxHeaderSize),
            ("--max-headers", maxHeaders), ("--max-connections", maxConnections)
        ]
        where value < 1 { throw ValidationError("\(name) must be at least 1, got \(value)") }
    }

    /// The configuration these flags describe.
    var serverConfiguration: ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.root = store.root
        configuration.publicURL = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        configuration.maxUploadSize = maxUploadSize
        configuration.anonymousPublic = !noAnonymousPublic
        configuration.signedURLLifetime = signedURLLifetime
        configuration.uploadLease = uploadLease
        configuration.sweepInterval = sweepInterval
        configuration.upstreams = upstreams.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        configuration.upstreamConnectTimeout = upstreamConnectTimeout
        configuration.upstreamStallTimeout = upstreamStallTimeout
        configuration.upstreamAuthTTL = upstreamAuthTTL
        configuration.maxCacheSize = maxCacheSize?.bytes
        configuration.remoteDownloads = store.s3.downloads
        configuration.redirectLifetime = store.s3.urlLifetime
        configuration.http.host = host
        configuration.http.port = port
        configuration.http.threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        configuration.http.maxHeaderLineBytes = maxHeaderLine
        configuration.http.maxHeaderBytes = maxHeaderSize
        configuration.http.maxHeaderCount = maxHeaders
        configuration.http.headerTimeout = headerTimeout
        configuration.http.bodyStallTimeout = bodyTimeout
        configuration.http.idleTimeout = idleTimeout
        configuration.http.maxConnections = maxConnections
        configuration.http.tlsPort = tls.port
        return configuration
    }

    func run() throws {
        let configuration = serverConfiguration  // HTTPServer.start() ignores SIGPIPE for the process
        // A file-size limit (`ulimit -f`) must fail one upload's write with EFBIG, not kill the server with SIGXFSZ.
        signal(SIGXFSZ, SIG_IGN)
        // Buffers of 1 MiB and more (S3 parts, upload queues) come from mmap and go back to the system when freed.
        // glibc's sliding threshold would move them into per-thread heaps that keep them, and the RSS would grow
        // with every upload that lands on a new worker thread.
        mallopt(M_MMAP_THRESHOLD, 1 << 20)
        let store = try self.store.openBlobStore()
        let context: ServerContext
        #if DEBUG
        if let faults = (store as? FileSystemBlobStore)?.faults {
            ServerLog.info("test build: injecting storage faults \(faults.plan)")
        }
        #endif
        do {
            let swept = try store.sweepTemporaryFiles()
            if swept > 0 { ServerLog.info("removed \(swept) stale temp file(s)") }
        } catch {
            throw CommandFailure("cannot sweep the blob store at \(store.location): \(error)")
        }
        do {
            // SQLite: two handles, so the authenticator's lookups never queue behind the worker queue's writes.
            // PostgreSQL: one, whose pool serves both and whose token checks read memory (see PGTokenListener).
            let index = try self.store.openIndex()
            let authIndex = index is SQLiteMetadataIndex ? try self.store.openIndex() : index
            context = try ServerContext(configuration: configuration, store: store, index: index, authIndex: authIndex)
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure("cannot open the index: \(error)")
        }
        let metrics = context.metrics
        let tlsStore = try tls.makeStore()
        let server = HTTPServer(
            configuration: configuration.http, handler: ServerHandler(context: context),
            accessLogPerLoop: { _ in
                let counters = metrics.countersForLoop()
                let clock = AccessLogClock()
                return { entry, lines in
                    counters.recordRequest(
                        method: entry.method, status: entry.status, sent: entry.bytesSent,
                        received: entry.bytesReceived)
                    AccessLog.append(entry, to: lines, clock: clock)
                }
            }, tls: tlsStore)
        let boundPort: Int
        do { boundPort = try server.start() } catch {
            let ports = [String(configuration.http.port)] + (tls.port.map { [String($0)] } ?? [])
            throw CommandFailure(
                "cannot listen on \(configuration.http.host):\(ports.joined(separator: " and ")): \(error)")
        }
        let signals = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                ServerLog.info("signal \(number): stopping")
                server.stop()
            }
            source.resume()
            return source
        }
        let hangUp = tlsStore.map { TLSOptions.reloadOnHangUp($0) }
        let sweeper = StoreSweeper(store: store, interval: configuration.sweepInterval)
        let host = configuration.http.host
        if let tlsStore, let tlsPort = server.tlsPort {
            ServerLog.info(
                "TLS: certificate \(tlsStore.summary); large GETs over TLS use \(tlsStore.fileBodyPath); "
                    + "session tickets with keys rotated every \(tlsStore.sessionLifetime) s; SIGHUP reloads the certificate"
            )
            let plain = tlsPort == boundPort ? "" : " and http://\(host):\(boundPort)"
            StandardStreams.out("listening on https://\(host):\(tlsPort)\(plain)\n")
        } else {
            StandardStreams.out("listening on http://\(host):\(boundPort)\n")
        }
        server.run()
        sweeper.stop()
        signals.forEach { $0.cancel() }
        hangUp?.cancel()
        context.mirror?.stop()
        context.authenticator.flush()
        context.worker.waitUntilIdle()
        ServerLog.info("stopped")
    }
}
