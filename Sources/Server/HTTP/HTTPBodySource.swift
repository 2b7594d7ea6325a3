import Synchronization

/// A response body made elsewhere (read from object storage, say), written into an `HTTPBodySink` from any
/// thread, with back-pressure: a slow client makes the source wait instead of the server buffering the body.
public protocol HTTPBodySource: AnyObject, Sendable {
    /// Begins producing into `sink`. Called once, on the connection's loop thread, once the response head is queued.
    func start(_ sink: HTTPBodySink)
    /// The sink has room again after a `write` answered false. Called on the loop thread.
    func resume()
    /// Stop producing and let go of everything: the body will not be sent, or not in full (the connection closed,
    /// the request was a HEAD, the loop ended). Any thread; may come more than once, and before `start`.
    func cancel()
}

/// Where an `HTTPBodySource` writes its bytes; any thread may use it.
///
/// Bytes are copied into a queue that the connection's loop moves to the socket. The queue plus what the socket
/// has not taken yet is held under `highWater` bytes: past it `write` answers false, and the source waits for
/// `resume()`, which comes once both fell under `lowWater`.
public final class HTTPBodySink: Sendable {
    /// Bytes queued (here and in the connection's output) past which a source must wait.
    public static let highWater = 1 << 20
    /// Bytes queued under which a waiting source is resumed.
    public static let lowWater = 256 << 10

    /// How the body ended, as the source said.
    enum End: Sendable { case finished, failed }

    private struct State {
        var chunks: [[UInt8]] = []
        var queued = 0
        /// The connection's unsent output, as of its last write.
        var unsent = 0
        var end: End?
        /// A message to the loop is on its way: no need to post another.
        var posted = false
        /// A `write` answered false: resume the source once under `lowWater`.
        var waiting = false
    }

    private let state = Mutex(State())
    private let mailbox: LoopMailbox
    private let connection: UInt64
    private let sequence: UInt64

    /// The sink of request `sequence` of `connection` on `loop` (made on the loop thread; keeps its mailbox).
    init(loop: EventLoop, connection: UInt64, sequence: UInt64) {
        self.mailbox = loop.mailbox
        self.connection = connection
        self.sequence = sequence
    }

    /// Queues a copy of `bytes`; false when the source must wait for `resume()` before writing again (the bytes
    /// were taken all the same). Bytes written after the body ended are dropped.
    @discardableResult
    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count > 0 else { return true }
        let (post, room) = state.withLock { state -> (Bool, Bool) in
            guard state.end == nil else { return (false, false) }
            state.chunks.append(Array(bytes))
            state.queued += bytes.count
            let post = !state.posted
            state.posted = true
            let room = state.queued + state.unsent < Self.highWater
            if !room { state.waiting = true }
            return (post, room)
        }
        if post { mailbox.post(.bodyReady(connection: connection, sequence: sequence)) }
        return room
    }

    /// All bytes of the body were written.
    public func finish() { end(.finished) }

    /// The body cannot be completed (its source failed): the connection closes, so the client sees a short body.
    public func fail() { end(.failed) }

    private func end(_ how: End) {
        let post = state.withLock { state -> Bool in
            guard state.end == nil else { return false }
            state.end = how
            let post = !state.posted
            state.posted = true
            return post
        }
        if post { mailbox.post(.bodyReady(connection: connection, sequence: sequence)) }
    }

    /// Loop thread: takes the queued chunks and the end, if it came.
    func take() -> (chunks: [[UInt8]], end: End?) {
        assert(mailbox.isLoopThread, "HTTPBodySink.take off its loop thread")
        return state.withLock { state in
            defer {
                state.chunks = []
                state.queued = 0
                state.posted = false
            }
            return (state.chunks, state.end)
        }
    }

    /// Loop thread: records the connection's unsent output; true when a waiting source should now resume.
    func noteUnsent(_ bytes: Int) -> Bool {
        assert(mailbox.isLoopThread, "HTTPBodySink.noteUnsent off its loop thread")
        return state.withLock { state in
            state.unsent = bytes
            guard state.waiting, state.queued + bytes < Self.lowWater else { return false }
            state.waiting = false
            return true
        }
    }

    /// Loop thread: the response is over; later writes are dropped.
    func close() {
        assert(mailbox.isLoopThread, "HTTPBodySink.close off its loop thread")
        state.withLock { state in
            if state.end == nil { state.end = .failed }
            state.chunks = []
            state.queued = 0
        }
    }
}
