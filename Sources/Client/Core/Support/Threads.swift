import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Plain POSIX threads for blocking work (libcurl easy transfers, hashing, unpacking).
///
/// Swift concurrency's cooperative pool must not block on I/O for seconds; these threads may.
enum Threads {
    private final class Start {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    /// Starts `body` on a new thread; join it with `join`.
    static func spawn(_ body: @escaping @Sendable () -> Void) -> pthread_t {
        let start = Unmanaged.passRetained(Start(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { argument in
                let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
                start.body()
                return nil
            }, start)
        guard result == 0 else {
            // No thread: run inline rather than lose the work.
            Unmanaged<Start>.fromOpaque(start).takeRetainedValue().body()
            return pthread_self()
        }
        return thread
    }

    /// Waits for a thread started by `spawn`.
    static func join(_ thread: pthread_t) {
        guard pthread_equal(thread, pthread_self()) == 0 else { return }
        pthread_join(thread, nil)
    }

    /// Runs `body(i)` for every `i` in `0..<count` on up to `width` threads, each taking the next index when done.
    /// `setUp` runs once per thread and its value is handed to every `body` call on that thread.
    static func forEach<State>(
        count: Int, width: Int, setUp: @escaping @Sendable () -> State,
        _ body: @escaping @Sendable (Int, State) -> Void
    ) {
        let next = Counter()
        let threads = (0..<max(1, min(width, count))).map { _ in
            spawn {
                let state = setUp()
                while let index = next.take(below: count) { body(index, state) }
            }
        }
        threads.forEach(join)
    }

    /// Hands out indices 0, 1, 2, ... to several threads.
    private final class Counter: Sendable {
        private let value = Mutex(0)

        func take(below limit: Int) -> Int? {
            value.withLock { value in
                guard value < limit else { return nil }
                defer { value += 1 }
                return value
            }
        }
    }
}
