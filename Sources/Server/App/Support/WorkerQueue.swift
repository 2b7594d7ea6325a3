import Dispatch
import Glibc
import Synchronization

/// Where blocking work goes (fsync, rename, SQLite, PostgreSQL, S3), never an event loop: `width` threads at most,
/// started as jobs arrive, each taking the oldest waiting job.
///
/// Not a concurrent `DispatchQueue`: on Linux, Dispatch runs about one thread per core for it and adds more only
/// slowly when they block, so two jobs waiting in an fsync or on the database held every other job back (measured by
/// `WorkerQueueTests`: 2 of 64 sleeping jobs at once on this 2-core machine); and where it does add threads it has no
/// bound. The queue's length is bounded by the connections: each request has at most one job waiting, an upload at
/// most `UploadWriter.pendingLimit` bytes of writes.
final class WorkerQueue: Sendable {
    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var next = 0
        var threads = 0
        var busy = 0

        var waiting: Int { jobs.count - next }
    }

    /// Jobs running at once, at most.
    let width: Int
    private let state = Mutex(State())
    /// One signal per job queued; a thread takes one job per signal.
    private let queued = DispatchSemaphore(value: 0)

    /// The default `width`: more than the PostgreSQL pool's 8 connections, so jobs waiting for the disk do not
    /// hold back those waiting for the database.
    static let defaultWidth = 32

    init(label: String, width: Int = WorkerQueue.defaultWidth) {
        self.width = max(1, width)
    }

    /// Runs `job` on a worker thread, after the jobs queued before it have started.
    func async(_ job: @escaping @Sendable () -> Void) {
        let startThread = state.withLock { state -> Bool in
            state.jobs.append(job)
            guard state.waiting > state.threads - state.busy, state.threads < width else { return false }
            state.threads += 1
            return true
        }
        if startThread {
            let context = Unmanaged.passRetained(self).toOpaque()  // released by the thread, which never ends
            var thread = pthread_t()
            pthread_create(
                &thread, nil,
                { context in
                    Unmanaged<WorkerQueue>.fromOpaque(context!).takeRetainedValue().work()
                    return nil
                }, context)
            pthread_detach(thread)
        }
        queued.signal()
    }

    /// A worker thread: the oldest job, then the next, for ever.
    private func work() {
        while true {
            queued.wait()
            let job = state.withLock { state -> @Sendable () -> Void in
                let job = state.jobs[state.next]
                state.next += 1
                if state.next >= 64 && state.next * 2 >= state.jobs.count {
                    state.jobs.removeFirst(state.next)
                    state.next = 0
                }
                state.busy += 1
                return job
            }
            job()
            state.withLock { $0.busy -= 1 }
        }
    }

    /// A queue whose jobs run on this one in the order given, one at a time (an upload's writes).
    func serial() -> SerialJobs { SerialJobs(worker: self) }

    /// Blocks until no job waits or runs (a graceful stop, once the loops have stopped making new ones).
    func waitUntilIdle() {
        while state.withLock({ $0.waiting > 0 || $0.busy > 0 }) { usleep(1_000) }
    }
}

/// Jobs that run on a `WorkerQueue` in order, one at a time: each is handed to the worker when the one before it
/// has finished, so a serial queue holds at most one of the worker's slots.
final class SerialJobs: Sendable {
    private struct State {
        var waiting: [@Sendable () -> Void] = []
        var running = false
    }

    private let worker: WorkerQueue
    private let state = Mutex(State())

    init(worker: WorkerQueue) { self.worker = worker }

    /// Runs `job` after every job given before it.
    func async(_ job: @escaping @Sendable () -> Void) {
        let start = state.withLock { state -> Bool in
            state.waiting.append(job)
            guard !state.running else { return false }
            state.running = true
            return true
        }
        if start { worker.async { [self] in runNext() } }
    }

    private func runNext() {
        guard let job = state.withLock({ $0.waiting.isEmpty ? nil : $0.waiting.removeFirst() }) else { return }
        job()
        let more = state.withLock { state -> Bool in
            state.running = !state.waiting.isEmpty
            return state.running
        }
        if more { worker.async { [self] in runNext() } }
    }
}
