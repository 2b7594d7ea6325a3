import Glibc
import Synchronization

/// A small HTTP/1.1 server on libevent's core, reading request heads itself (`HeadScanner`) or, for split or unusual
/// ones, with http_parser: `threads` event loops share one listening socket.
///
/// Use: `init`, then `start()` (binds, returns the port), then `run()` on the thread that should block, and
/// `stop()` from anywhere (e.g. a signal-handling thread) for a graceful stop.
///
/// What the layer answers by itself (JSON error body, `Content-Type: application/json`, then a close):
/// - 400 `BadRequest`: anything http_parser rejects, a version other than 1.0/1.1, two `Host`, whitespace before a
///   header's colon, a header line over `maxHeaderLineBytes`, differing or duplicate `Content-Length`, NUL bytes,
///   and `Content-Length` together with `Transfer-Encoding` (http_parser refuses that pair before we see it).
/// - 411 `LengthRequired`: any other request with `Transfer-Encoding` (request bodies are never chunked here).
/// - 414 `URITooLong`: a request-target over `maxHeaderLineBytes`.
/// - 431 `RequestHeaderFieldsTooLarge`: more than `maxHeaderCount` fields or a head over `maxHeaderBytes`.
/// - 408 `RequestTimeout`: a head not complete within `headerTimeout` of its first byte.
/// - 503 `ServiceUnavailable`: over `maxConnections` with no idle keep-alive connection to evict.
/// Refused or closing connections are half-closed and drained for `lingerTimeout` (nothing is kept) so the
/// answer is not lost to a reset. No `Server` header is ever sent.
///
/// Thread-safe: its mutable state (the loops, the listener, the stopped flag) lives in a `Mutex`; the rest is
/// immutable.
public final class HTTPServer: Sendable {
    /// The configuration the server was made with.
    public let configuration: HTTPServerConfiguration
    private let handler: HTTPHandler
    private let makeAccessLog: (@Sendable (_ loop: Int) -> HTTPAccessLogger)?
    /// The certificate when the server speaks TLS (see `HTTPServerConfiguration.tlsPort` for which port).
    public let tls: TLSCertificateStore?
    private let state = Mutex<ServerState>(ServerState())

    private struct ServerState {
        var listener: ListeningSocket?
        var tlsListener: ListeningSocket?
        /// Made by `start()`, taken by `run()`.
        var loops = PreparedLoops(loops: [])
        /// The loops' mailboxes, how `stop()` reaches them from any thread.
        var mailboxes: [LoopMailbox] = []
        var stopped = false
        var running = false
    }

    /// A server that routes every request to `handler` and reports each response to `accessLog`, whose lines go to
    /// `configuration.accessLogDescriptor`.
    public convenience init(
        configuration: HTTPServerConfiguration = HTTPServerConfiguration(), handler: HTTPHandler,
        accessLog: HTTPAccessLogger? = nil, tls: TLSCertificateStore? = nil
    ) {
        var perLoop: (@Sendable (Int) -> HTTPAccessLogger)?
        if let accessLog { perLoop = { @Sendable _ in accessLog } }
        self.init(configuration: configuration, handler: handler, accessLogPerLoop: perLoop, tls: tls)
    }

    /// As `init(configuration:handler:accessLog:)`, with a logger of its own for each event loop, made once when the
    /// loop is (`loop` counts from 0): a logger that keeps counters can keep them per loop, with no lock shared by
    /// the loops. With `tls`, the server speaks HTTPS on `port`, or on `tlsPort` beside plain HTTP on `port`.
    public init(
        configuration: HTTPServerConfiguration = HTTPServerConfiguration(), handler: HTTPHandler,
        accessLogPerLoop: (@Sendable (_ loop: Int) -> HTTPAccessLogger)?, tls: TLSCertificateStore? = nil
    ) {
        self.configuration = configuration
        self.handler = handler
        self.makeAccessLog = accessLogPerLoop
        self.tls = tls
    }

    /// Binds the listening socket and prepares the loops; returns the bound port. Ignores SIGPIPE process-wide
    /// (a client closing mid-response must not kill the server).
    @discardableResult
    public func start() throws -> Int {
        signal(SIGPIPE, SIG_IGN)
        if configuration.maxHeaderBytes > 64 * 1024 {
            raiseParserHeaderLimit(to: configuration.maxHeaderBytes)
        }
        let listener = try ListeningSocket(host: configuration.host, port: configuration.port)
        var tlsListener: ListeningSocket?
        if tls != nil, let tlsPort = configuration.tlsPort {
            tlsListener = try ListeningSocket(host: configuration.host, port: tlsPort)
        }
        let counter = ConnectionCounter()
        let mailboxes = (0..<max(1, configuration.threads)).map { _ in LoopMailbox(openConnections: counter) }
        let group = LoopGroup(members: mailboxes)
        let loops = try mailboxes.enumerated().map { number, mailbox in
            try EventLoop(
                configuration: configuration, handler: handler, accessLog: makeAccessLog?(number), listener: listener,
                openConnections: counter, group: group, mailbox: mailbox, tlsStore: tls, tlsListener: tlsListener)
        }
        state.withLock {
            $0.listener = listener
            $0.tlsListener = tlsListener
            $0.loops = PreparedLoops(loops: loops)
            $0.mailboxes = mailboxes
            if $0.stopped { mailboxes.forEach { $0.post(.stop) } }
        }
        return listener.port
    }

    /// The bound port once started.
    public var port: Int? { state.withLock { $0.listener?.port } }

    /// The bound TLS port once started: `port` when TLS has no port of its own, nil without TLS.
    public var tlsPort: Int? {
        guard tls != nil else { return nil }
        return state.withLock { $0.tlsListener?.port ?? $0.listener?.port }
    }

    /// Runs the loops (the first on the calling thread) and blocks until `stop()` has finished them all.
    public func run() {
        let loops = state.withLock { state -> [EventLoop] in
            guard !state.running else { return [] }
            state.running = true
            defer { state.loops = PreparedLoops(loops: []) }
            return state.loops.loops
        }
        guard let first = loops.first else { return }
        let threads = loops.dropFirst().map { LoopThread(loop: $0) }
        first.run()
        threads.forEach { $0.join() }
        state.withLock {
            $0.mailboxes = []
            $0.listener = nil
            $0.tlsListener = nil
        }
    }

    /// Graceful stop: stop accepting, let requests in flight finish (up to `gracefulStopTimeout`), then close
    /// everything and let `run()` return. Thread-safe; may be called before `run()`.
    public func stop() {
        let (mailboxes, listeners) = state.withLock { state -> ([LoopMailbox], [ListeningSocket]) in
            state.stopped = true
            return (state.mailboxes, [state.listener, state.tlsListener].compactMap { $0 })
        }
        mailboxes.forEach { $0.post(.stop) }
        // Refuse new connections now (and reset those queued but not accepted) rather than let them wait,
        // unanswered, for the drain to end. The descriptors themselves are closed once every loop has stopped.
        for listener in listeners { shutdown(listener.fd, Int32(SHUT_RD)) }
    }
}

/// The event loops `start()` made, waiting in the server's state for `run()`.
///
/// `@unchecked Sendable`: a hand-off, not sharing: put in and taken out once under the server's lock, touched by no
/// thread in between; from `run()` on each loop belongs to the thread that runs it.
private struct PreparedLoops: @unchecked Sendable {
    var loops: [EventLoop]
}
