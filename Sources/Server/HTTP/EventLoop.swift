import CEvent
import Glibc
import Synchronization

/// One event loop (one thread): accepts from the shared listening socket and drives its connections.
///
/// Not `Sendable`: it is made on the starting thread, handed to its thread by `LoopThread` (or run on the caller's
/// by `HTTPServer.run()`), and touched only there afterwards. Other threads reach it through its `mailbox`.
/// Loop-only entry points check it in debug builds with `assertInEventLoop()`.
final class EventLoop {
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

    /// How other threads reach this loop.
    let mailbox: LoopMailbox
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
        listener: ListeningSocket, openConnections: ConnectionCounter, group: LoopGroup, mailbox: LoopMailbox,
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
        self.mailbox = mailbox
        base = try EventBase()
        readBuffer = .allocate(byteCount: readBufferSize, alignment: 16)
        // The loop outlives its events: run() frees them (the mailbox the wake-up) before it returns.
        let context = Unmanaged.passUnretained(self).toOpaque()
        let wakeEvent = try Event(base: base, fd: -1, what: 0, context: context, callback: loopWake)
        mailbox.attach(LoopWakeUp(event: wakeEvent))
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
        mailbox.enterLoopThread()
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
        mailbox.close()  // what responders send from now on is discarded
    }

    /// Debug builds: stops the program when the caller is not this loop's running thread (compiled out in release).
    /// Loop-only entry points (event callbacks, mailbox deliveries) call it.
    @inline(__always)
    func assertInEventLoop(file: StaticString = #fileID, line: UInt = #line) {
        assert(mailbox.isLoopThread, "loop-only code ran off its event loop's thread", file: file, line: line)
    }

    /// Drains the mailbox on the loop thread.
    func wake() {
        assertInEventLoop()
        for message in mailbox.take() {
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
        readBuffer.deallocate()
    }
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
    loop.assertInEventLoop()
    loop.acceptConnections(from: loop.listener, secure: loop.listenerIsTLS)
}
private let loopAcceptTLS: event_callback_fn = { _, _, context in
    let loop = loop(context)
    loop.assertInEventLoop()
    if let tlsListener = loop.tlsListener { loop.acceptConnections(from: tlsListener, secure: true) }
}
private let loopStopTimer: event_callback_fn = { _, _, context in
    let loop = loop(context)
    loop.assertInEventLoop()
    loop.finishStop()
}
private let loopIterationEnd: event_callback_fn = { _, _, context in
    let loop = loop(context)
    loop.assertInEventLoop()
    loop.endIteration()
}
