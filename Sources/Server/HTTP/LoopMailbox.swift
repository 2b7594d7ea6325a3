import Glibc
import Synchronization

/// The one part of an `EventLoop` that other threads may touch: a queue of messages for the loop and the wake-up
/// event that makes the loop drain it (the role of swift-nio's `EventLoop.execute` and its task queue).
///
/// Responders, deciders, body flows and sinks, the other loops (handing over accepted connections) and
/// `HTTPServer.stop()` hold a mailbox, never the loop, so the loop itself need not be `Sendable`.
///
/// Any thread may `post`; `take`, `close` and `enterLoopThread` belong to the loop thread. A message that will
/// never be handled (posted after the loop ended, or still queued then) is discarded: a response's file is closed,
/// a stream's source cancelled, a handed-over socket closed and uncounted.
final class LoopMailbox: Sendable {
    private struct State {
        var messages: [LoopMessage] = []
        /// Attached once by the loop's `init`; dropped by `close`.
        var wakeUp: LoopWakeUp?
        /// The loop ended: nothing posted will be handled.
        var closed = false
    }

    private let state = Mutex(State())
    /// Open connections over all loops, uncounted when an `adopt` is discarded.
    private let openConnections: ConnectionCounter
    /// The loop thread's `pthread_self()` once it runs (0 before); read by `isLoopThread`.
    private let loopThread = Atomic<UInt>(0)

    /// An empty mailbox; the loop made with it attaches its wake-up.
    init(openConnections: ConnectionCounter) {
        self.openConnections = openConnections
    }

    /// Set-up, before the loop runs: the event that wakes the loop to drain the mailbox.
    func attach(_ wakeUp: LoopWakeUp) {
        state.withLock { state in
            state.wakeUp = wakeUp
            if !state.messages.isEmpty { wakeUp.activate() }
        }
    }

    /// Queues `message` for the loop thread and wakes the loop; safe from any thread.
    ///
    /// Only the message that finds the queue empty activates the wake-up: the later ones are taken by the same drain.
    /// The activation happens under the lock, so it cannot race with `close` freeing the event.
    func post(_ message: LoopMessage) {
        let accepted = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.messages.append(message)
            if state.messages.count == 1 { state.wakeUp?.activate() }
            return true
        }
        if !accepted { message.discard(openConnections) }
    }

    /// Loop thread: everything queued so far, in order.
    func take() -> [LoopMessage] {
        state.withLock { state in
            defer { state.messages = [] }
            return state.messages
        }
    }

    /// Loop thread, once the loop ended: discards what is queued and what comes later, and frees the wake-up event.
    func close() {
        let left = state.withLock { state -> [LoopMessage] in
            state.closed = true
            state.wakeUp = nil
            defer { state.messages = [] }
            return state.messages
        }
        for message in left { message.discard(openConnections) }
    }

    /// Loop thread, first thing in `EventLoop.run()`: records the thread `isLoopThread` compares with.
    func enterLoopThread() {
        loopThread.store(UInt(pthread_self()), ordering: .relaxed)
    }

    /// Whether the caller runs on the loop's thread (false before the loop runs). For debug-build checks.
    var isLoopThread: Bool { loopThread.load(ordering: .relaxed) == UInt(pthread_self()) }

    deinit {
        // A loop that never ran (start() without run()) leaves its messages here.
        for message in state.withLock({ $0.messages }) { message.discard(openConnections) }
    }
}

/// The loop's wake-up event, as other threads may use it.
///
/// `@unchecked Sendable`: `activate()` (`event_active`) is thread-safe once `evthread_use_pthreads` ran, and the
/// mailbox only uses and frees the event under its lock.
struct LoopWakeUp: @unchecked Sendable {
    /// The event; its callback drains the mailbox on the loop thread.
    let event: Event

    /// Makes the loop run the event's callback soon.
    func activate() { event.activate() }
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

    /// Undoes a message that will never be handled: closes a response's file or cancels its stream, closes and
    /// uncounts a handed-over socket.
    func discard(_ openConnections: ConnectionCounter) {
        switch self {
        case .response(_, _, let response):
            response.body.discard()
        case .adopt(let fd, _, _):
            close(fd)
            openConnections.value.subtract(1, ordering: .relaxed)
        case .stop, .resumeBody, .bodyReady, .decide:
            break
        }
    }
}
