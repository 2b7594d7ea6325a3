import CEvent
import CHTTPParser
import Glibc

/// One client connection: parses requests, hands them to the handler, writes responses in order.
///
/// Loop thread only: created, driven and closed by its `EventLoop`'s thread. libevent and http_parser reach it
/// through one `Unmanaged` context, retained in `open()` and released in `close()`.
final class Connection {
    /// Where the connection is in its request/response cycle.
    enum State {
        /// Waiting for or parsing a request head.
        case readingHead
        /// The head was handled; parsing the body (or the end of a body-less request).
        case readingBody
        /// The request is complete; waiting for the app's response. Nothing is read.
        case waitingForResponse
        /// Writing a response. Nothing is read.
        case writing
        /// The write side is shut; discarding input until the client closes or the linger time ends.
        case lingering
        /// Gone.
        case closed
    }

    /// Key in the loop's connection table.
    let id: UInt64
    /// The socket.
    let fd: Int32
    /// The client's address.
    let remoteAddress: String
    /// The owning loop. `unowned(unsafe)`: a counted reference cost 230 instructions per small GET (+0.8 %,
    /// bench/instructions); safe because the loop closes every connection before `run()` returns.
    unowned(unsafe) let loop: EventLoop
    /// Current state.
    var state = State.readingHead
    /// The request in progress.
    var request = RequestState()
    /// Sequence number of the current request, so a late responder cannot answer a later one.
    var sequence: UInt64 = 0
    /// Requests answered so far; more than zero makes an empty connection an idle keep-alive one.
    var requestsServed = 0
    /// Bytes received after a complete request while its response was pending (pipelining), parsed next from
    /// `stashOffset` on; emptied (keeping its storage) once all of it is parsed, so empty means nothing pending.
    var stash: [UInt8] = []
    /// Where the unparsed part of `stash` starts: moving it, not copying the rest, makes a burst of N pipelined
    /// requests cost N parses, not N copies of what follows each one.
    var stashOffset = 0
    /// A parser callback paused the parser for this reason.
    var pendingEvent: ParserEvent?
    /// Monotonic times driving the single timer.
    var headStart = 0.0, idleSince = 0.0, lastReadProgress = 0.0, lastWriteProgress = 0.0, lingerStart = 0.0
    /// The response being written: total bytes, status, log user, and whether to close after it.
    var responseBytes: Int64 = 0, responseStatus = HTTPStatus.ok, responseUser: String?, closeAfterResponse = false
    /// Whether the client asked to keep the connection open.
    var keepAlive = true
    /// A response waits for the end of the loop iteration to be written (reading stays armed until then: turning
    /// it off and on again for every response cost two `epoll_ctl` calls).
    var responseQueued = false
    /// The streamed body of the response being written (`HTTPResponseBody.stream`), until all of it is out.
    var stream: ResponseStream?
    /// The TLS session on a connection accepted on a TLS port; nil for plain HTTP (see `Connection+TLS`).
    let tls: TLSSession?
    /// A file body still going out over TLS (plain connections queue file segments in `output` instead).
    var fileBody: TLSFileBody?

    /// The http_parser state.
    private(set) var parser: Parser!
    /// Queued response bytes and file segments.
    let output: EventBuffer
    private var readEvent: Event?
    private var writeEvent: Event?
    private var timer: Event?
    private var readArmed = false, writeArmed = false
    /// The deadline the pending timer fires at; nil when the timer is not pending.
    var armedDeadline: Double?
    private var context: Unmanaged<Connection>?

    /// Wraps an accepted, non-blocking socket. Call `open()` next.
    /// `tls` is the session for a TLS port's connection (nil for plain HTTP).
    init(id: UInt64, fd: Int32, remoteAddress: String, loop: EventLoop, tls: TLSSession? = nil) throws {
        self.id = id
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.loop = loop
        self.tls = tls
        output = try EventBuffer()
    }

    /// Creates the events and starts reading; the connection keeps itself alive until `close()`.
    func open() throws {
        let context = Unmanaged.passRetained(self)  // released in close()
        self.context = context
        let raw = context.toOpaque()
        parser = Parser(context: raw)
        readEvent = try Event(
            base: loop.base, fd: fd, what: EV_READ | EV_PERSIST, context: raw, callback: connectionReadable)
        writeEvent = try Event(
            base: loop.base, fd: fd, what: EV_WRITE | EV_PERSIST, context: raw, callback: connectionWritable)
        timer = try Event(base: loop.base, fd: -1, what: 0, context: raw, callback: connectionTimer)
        headStart = monotonicNow()
        armTimer()
        updateReadInterest()
    }

    /// True for a keep-alive connection between requests (the kind evicted first).
    var isIdle: Bool { state == .readingHead && requestsServed > 0 && !request.started && stash.isEmpty }

    /// Reads only when parsing or lingering; otherwise leaves input in the kernel (backpressure).
    func updateReadInterest() {
        let want =
            state == .readingHead || (state == .readingBody && !request.bodyPaused) || state == .lingering
            || (state == .writing && responseQueued) || (tls?.writeWantsRead ?? false)
        guard want != readArmed, let readEvent else { return }
        readArmed = want
        if want { readEvent.add() } else { readEvent.remove() }
    }

    /// Waits for the socket to become writable (or stops waiting).
    func setWriteInterest(_ want: Bool) {
        guard want != writeArmed, let writeEvent else { return }
        writeArmed = want
        if want { writeEvent.add() } else { writeEvent.remove() }
    }

    /// Arms the one timer for the current state's deadline (or disarms it).
    ///
    /// Lazily: a deadline no earlier than the pending one leaves the timer as it is; it then fires early and
    /// `timerFired` arms it again for the deadline of that moment. A keep-alive request moves the deadline twice
    /// (idle, then head), and re-adding the timer each time cost two `event_add` per request.
    func armTimer() {
        guard let timer else { return }
        guard let deadline = currentDeadline() else {
            if armedDeadline != nil {
                timer.remove()
                armedDeadline = nil
            }
            return
        }
        if let armed = armedDeadline, armed <= deadline { return }
        timer.add(timeout: deadline - monotonicNow())
        armedDeadline = deadline
    }

    /// Closes now: aborts a body in progress, logs a response cut short, frees the events, closes the socket.
    func close() {
        guard state != .closed else { return }
        let previous = state
        state = .closed
        if previous == .readingBody, case .consumer(let consumer)? = request.decision { consumer.abort() }
        if previous == .writing {
            logResponse(
                bytesSent: responseBytes - Int64(output.count) - (stream?.remaining ?? 0) - (fileBody?.remaining ?? 0))
        }
        endStream()
        fileBody = nil
        // No close_notify in the middle of a response: it would make a cut body look like a clean end.
        tls?.finish(notify: previous != .writing)
        readEvent = nil
        writeEvent = nil
        timer = nil
        Glibc.close(fd)
        loop.connectionClosed(self)
        context?.release()  // balances passRetained in open()
        context = nil
    }
}

/// Why a parser callback paused the parser.
enum ParserEvent {
    /// The head is complete: validate it and ask the handler.
    case headersComplete
    /// The message is complete: act on the decision.
    case messageComplete
    /// The body consumer refused the body with this response.
    case consumerStopped(HTTPResponse)
    /// The body consumer asked to pause reading.
    case consumerPaused
}

/// The connection behind a libevent callback's context (not retained: the context holds a reference).
private func connection(_ context: UnsafeMutableRawPointer?) -> Connection {
    Unmanaged<Connection>.fromOpaque(context!).takeUnretainedValue()
}

private let connectionReadable: event_callback_fn = { _, _, context in
    let conn = connection(context)
    conn.loop.assertInEventLoop()
    withExtendedLifetime(conn) { conn.readable() }
}

private let connectionWritable: event_callback_fn = { _, _, context in
    let conn = connection(context)
    conn.loop.assertInEventLoop()
    withExtendedLifetime(conn) {
        if let tls = conn.tls { conn.tlsWritable(tls) } else { conn.flush() }
    }
}

private let connectionTimer: event_callback_fn = { _, _, context in
    let conn = connection(context)
    conn.loop.assertInEventLoop()
    withExtendedLifetime(conn) { conn.timerFired() }
}
