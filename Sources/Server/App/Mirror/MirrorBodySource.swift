import Dispatch
import HTTPServer
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A range of a blob still arriving into a `MirrorFill`, read from its temp file as the bytes come.
///
/// Reads run on the worker queue (a `pread` per chunk, from the page cache as a rule), one at a time per source:
/// `start`, `resume` and the fill's `dataArrived` only schedule them. The source sends every byte up to the
/// transfer's progress except its own last one, which goes out only once the fill verified the digest; if the fill
/// fails, the sink fails and the client's connection closes short of its `Content-Length`.
final class MirrorBodySource: HTTPBodySource {
    private struct State {
        var sink: HTTPBodySink?
        /// Next byte of the blob to send.
        var offset: Int64
        /// A read pass is running or queued.
        var scheduled = false
        /// More work came while a pass ran: run another.
        var again = false
        /// The sink is full: wait for `resume`.
        var blocked = false
        /// `resume` came since the last `write` began (it may beat that write's false answer here).
        var resumed = false
        var done = false
    }

    /// Bytes read per `pread`.
    private static let chunk = 256 << 10

    private let fill: MirrorFill
    /// One past the last byte of the blob to send.
    private let end: Int64
    private let worker: WorkerQueue
    private let state: Mutex<State>

    init(_ fill: MirrorFill, offset: Int64, length: Int64, worker: WorkerQueue) {
        self.fill = fill
        self.end = offset + length
        self.worker = worker
        self.state = Mutex(State(offset: offset))
    }

    // MARK: HTTPBodySource (the connection's loop)

    func start(_ sink: HTTPBodySink) {
        state.withLock { $0.sink = sink }
        fill.attach(self)
        schedule()
    }

    func resume() {
        state.withLock { state in
            state.blocked = false
            state.resumed = true
        }
        schedule()
    }

    func cancel() {
        state.withLock { state in
            state.done = true
            state.sink = nil
        }
        fill.detach(self)
    }

    // MARK: From the fill (any thread)

    /// New bytes are in the file, or the transfer ended.
    func dataArrived() { schedule() }

    // MARK: Reading (worker queue)

    private func schedule() {
        let go = state.withLock { state -> Bool in
            guard !state.done, state.sink != nil else { return false }
            if state.scheduled {
                state.again = true
                return false
            }
            state.scheduled = true
            return true
        }
        if go { worker.async { [self] in run() } }
    }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: Self.chunk)
        while true {
            pass(&buffer)
            let more = state.withLock { state -> Bool in
                if state.again && !state.done {
                    state.again = false
                    return true
                }
                state.scheduled = false
                return false
            }
            if !more { return }
        }
    }

    /// Sends what can be sent now.
    private func pass(_ buffer: inout [UInt8]) {
        while true {
            guard
                let (sink, offset) = state.withLock({ state -> (HTTPBodySink, Int64)? in
                    guard !state.done, !state.blocked, let sink = state.sink else { return nil }
                    state.resumed = false
                    return (sink, state.offset)
                })
            else { return }
            let (written, phase) = fill.progress()
            let limit: Int64
            switch phase {
            case .failed:
                return finish(sink, whole: false)
            case .verified:
                limit = end
            case .arriving, .connecting:
                limit = min(written, end - 1)  // the last byte waits for the verdict
            }
            if offset >= limit {
                if offset == end { finish(sink, whole: true) }
                return
            }
            let count = Int(min(Int64(buffer.count), limit - offset))
            let got = buffer.withUnsafeMutableBytes { pread(fill.fd, $0.baseAddress!, count, off_t(offset)) }
            guard got > 0 else {
                ServerLog.error("mirror: reading \(fill.digest.hex) at \(offset) failed (\(got < 0 ? errno : 0))")
                return finish(sink, whole: false)
            }
            let room = buffer.withUnsafeBytes { sink.write(UnsafeRawBufferPointer(rebasing: $0[..<got])) }
            state.withLock { state in
                state.offset += Int64(got)
                if !room && !state.resumed { state.blocked = true }
            }
        }
    }

    private func finish(_ sink: HTTPBodySink, whole: Bool) {
        state.withLock { $0.done = true }
        if whole { sink.finish() } else { sink.fail() }
        fill.detach(self)
    }
}
