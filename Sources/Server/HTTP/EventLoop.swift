import CEvent
import Glibc
import Synchronization

/// One event loop (one thread): accepts from the shared listening socket and drives its connections.
///
/// `@unchecked Sendable` because responders on other threads hold it: they only call `post`, which touches the
/// `Mutex`-protected mailbox and `event_active` (thread-safe once `evthread_use_pthreads` ran). Everything else is
/// touched only on the loop thread, or during set-up before that thread starts and after it ended.
final class EventLoop: @unchecked Sendable {
    /// Size of the read buffer every connection of this loop reads into (one per loop, not per connection).
    let readBufferSize = 256 * 1024
    /// The shared read buffer.
    let readBuffer: UnsafeMutableRawPointer
    /// The libevent base this loop runs.
    let base: EventBase
    /// Limits and timeouts.
    let configuration: HTTPServerConfiguration
    /// The app's router.
    let handler: HTTPHandler
    /// Formats access-log lines into `logBuffer`.
    let accessLog: HTTPAccessLogger?
    /// This loop's access-log lines not yet written (see `HTTPLogBuffer`).
    let logBuffer = HTTPLogBuffer()
    /// Connections with a response queued in this iteration, written when it ends (see `scheduleWrite`).
    var pendingWrites: [Connection] = []
    /// The batch being written, swapped with `pendingWrites` so neither array is reallocated each iteration.
    var writingBatch: [Connection] = []
    /// True from `iterationEndEvent`'s activation until `endIteration` finished.
    var iterationEndScheduled = false
    /// Open connections over all loops (for the connection cap).
    let openConnections: ConnectionCounter
    /// The shared listening socket.
    let listener: ListeningSocket
    /// The certificate store when the server speaks TLS; nil for plain HTTP only.
    let tlsStore: TLSCertificateStore?
    /// True when `listener` is a TLS port (TLS without `tlsPort`).
    let listenerIsTLS: Bool
    /// The TLS port's socket when TLS listens beside plain HTTP (`tlsPort`).
    let tlsListener: ListeningSocket?
    /// The server's loops, to deal accepted connections among them.
    let group: LoopGroup
    /// Connections of this loop by id.
    var connections: [UInt64: Connection] = [:]
    /// Id of the next connection.
    var nextID: UInt64 = 0
    /// True once a graceful stop began: no accepting, close after each response.
    var stopping = false

    private let mailbox = Mutex<[LoopMessage]>([])
    /// Assigned once in `init` (it needs `self` as context) and never again, so other threads may read it;
    /// activating it after the loop ended is harmless.
    private var wakeEvent: Event!
    var acceptEvent: Event?
    /// Accepts from `tlsListener`.
    var tlsAcceptEvent: Event?
    var stopTimer: Event?
    /// Made active by the first response or log line of an iteration; it runs after the events already active in
    /// that iteration, writes the queued responses, then the log lines.
    private(set) var iterationEndEvent: Event?

    /// A loop accepting from `listener`; call `run()` on its thread.
    /// With `tlsStore`, connections from `listener` speak TLS unless `tlsListener` is given (then those do).
    init(
        configuration: HTTPServerConfiguration, handler: HTTPHandler, accessLog: HTTPAccessLogger?,
        listener: ListeningSocket, openConnections: ConnectionCounter, group: LoopGroup,
        tlsStore: TLSCertificateStore? = nil, tlsListener: ListeningSocket? = nil
    ) throws {
        self.configuration = configuration
        self.handler = handler
        self.accessLog = accessLog
        self.listener = listener
        self.tlsStore = tlsStore
        self.tlsListener = tlsStore == nil ? nil : tlsListener
        self.listenerIsTLS = tlsStore != nil && tlsListener == nil
        self.openConnections = openConnections
        self.group = group
        base = try EventBase()
        readBuffer = .allocate(byteCount: readBufferSize, alignment: 16)
        let context = Unmanaged.passUnretained(self).toOpaque()  // the loop outlives its events (freed in run())
        wakeEvent = try Event(base: base, fd: -1, what: 0, context: context, callback: loopWake)
        acceptEvent = try Event(
            base: base, fd: listener.fd, what: EV_READ | EV_PERSIST, context: context, callback: loopAccept)
        stopTimer = try Event(base: base, fd: -1, what: 0, context: context, callback: loopStopTimer)
        if let tlsListener = self.tlsListener {
            tlsAcceptEvent = try Event(
                base: base, fd: tlsListener.fd, what: EV_READ | EV_PERSIST, context: context,
                callback: loopAcceptTLS)
        }
        iterationEndEvent = try Event(base: base, fd: -1, what: 0, context: context, callback: loopIterationEnd)
    }

    /// Runs until stopped, then closes whatever is left and frees the loop's events.
    func run() {
        acceptEvent?.add()
        tlsAcceptEvent?.add()
        event_base_loop(base.pointer, EVLOOP_NO_EXIT_ON_EMPTY)
        for connection in Array(connections.values) { connection.close() }
        flushLog()
        // A stop can end the loop before its iteration-end event ran: drop what it would have written.
        pendingWrites = []
        iterationEndScheduled = false
        iterationEndEvent = nil
        acceptEvent = nil
        tlsAcceptEvent = nil
        stopTimer = nil
        discardMailbox()
    }

    /// Drops queued responses (closing their files): the loop has ended.
    private func discardMailbox() {
        for message in mailbox.withLock({ messages in
            defer { messages = [] }; return messages
        }) {
            switch message {
            case .response(_, _, let response): response.body.discard()
            case .adopt(let fd, _, _): discardAdopted(fd)
            case .stop, .resumeBody, .bodyReady, .decide: break
            }
        }
    }

    /// Queues a message for the loop thread and wakes it; safe from any thread.
    func post(_ message: LoopMessage) {
        mailbox.withLock { $0.append(message) }
        wakeEvent.activate()
    }

    /// Drains the mailbox on the loop thread.
    func wake() {
        let messages = mailbox.withLock { messages in
            defer { messages = [] }; return messages
        }
        for message in messages {
            switch message {
            case .response(let id, let sequence, let response):
                if let connection = connections[id] {
                    withExtendedLifetime(connection) { connection.deliver(response, sequence: sequence) }
                } else {
                    response.body.discard()
                }
            case .adopt(let fd, let remoteAddress, let secure):
                if stopping { discardAdopted(fd) } else { open(fd: fd, remoteAddress: remoteAddress, secure: secure) }
            case .stop:
                beginStop()
            case .resumeBody(let id, let sequence):
                if let connection = connections[id] {
                    withExtendedLifetime(connection) { connection.resumeBody(sequence: sequence) }
                }
            case .decide(let id, let sequence, let action):
                if let connection = connections[id] {
                    withExtendedLifetime(connection) { connection.decided(sequence: sequence, action) }
                }
            case .bodyReady(let id, let sequence):
                if let connection = connections[id] {
                    withExtendedLifetime(connection) { connection.streamBodyReady(sequence: sequence) }
                }
            }
        }
    }

    /// Forgets a closed connection; ends the loop when a stop is waiting for the last one.
    func connectionClosed(_ connection: Connection) {
        connections[connection.id] = nil
        openConnections.value.subtract(1, ordering: .relaxed)
        if stopping && connections.isEmpty { event_base_loopbreak(base.pointer) }
    }

    deinit {
        discardMailbox()  // responders that answered after the loop ended
        readBuffer.deallocate()
    }
}

/// A message for a loop thread.
enum LoopMessage: Sendable {
    /// A response from a responder.
    case response(connection: UInt64, sequence: UInt64, HTTPResponse)
    /// Take over a connection another loop accepted (already counted in `openConnections`); `secure` for TLS.
    case adopt(fd: Int32, remoteAddress: String, secure: Bool)
    /// Begin a graceful stop.
    case stop
    /// A paused request body may be read on (`HTTPBodyFlow`).
    case resumeBody(connection: UInt64, sequence: UInt64)
    /// A handler's late decision (`HTTPDecider`), to be made on the loop thread.
    case decide(connection: UInt64, sequence: UInt64, @Sendable () -> HTTPRequestAction)
    /// A streamed response body has bytes or its end waiting (`HTTPBodySink`).
    case bodyReady(connection: UInt64, sequence: UInt64)
}

/// Open connections over all loops.
final class ConnectionCounter: Sendable {
    /// The count.
    let value = Atomic<Int>(0)
    /// Zero.
    init() {}
}

private func loop(_ context: UnsafeMutableRawPointer?) -> EventLoop {
    Unmanaged<EventLoop>.fromOpaque(context!).takeUnretainedValue()
}

private let loopWake: event_callback_fn = { _, _, context in loop(context).wake() }
private let loopAccept: event_callback_fn = { _, _, context in
    let loop = loop(context)
    loop.acceptConnections(from: loop.listener, secure: loop.listenerIsTLS)
}
private let loopAcceptTLS: event_callback_fn = { _, _, context in
    let loop = loop(context)
    if let tlsListener = loop.tlsListener { loop.acceptConnections(from: tlsListener, secure: true) }
}
private let loopStopTimer: event_callback_fn = { _, _, context in loop(context).finishStop() }
private let loopIterationEnd: event_callback_fn = { _, _, context in loop(context).endIteration() }
