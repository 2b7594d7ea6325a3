#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A plain mutual-exclusion lock over `pthread_mutex_t`.
///
/// Used instead of `Synchronization.Mutex` because the package still declares macOS 13, where that type is unavailable.
final class Lock: @unchecked Sendable {
    // @unchecked Sendable: the mutex lives in its own allocation that never moves, and pthread mutexes are made to be
    // shared between threads; the class has no other state.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    /// Makes an unlocked lock.
    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let rc = pthread_mutex_init(mutex, nil)
        precondition(rc == 0, "pthread_mutex_init failed: \(rc)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` while holding the lock.
    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// A fixed set of locks picked by a key's hash: a per-key lock without a table that grows with the keys.
final class StripedLock: Sendable {
    private let stripes: [Lock]

    /// Makes `count` stripes; two keys share a lock only when their hashes collide modulo `count`.
    init(count: Int = 64) {
        stripes = (0..<count).map { _ in Lock() }
    }

    /// Runs `body` while holding the stripe of `key`.
    func withLock<T, E: Error>(for key: some Hashable, _ body: () throws(E) -> T) throws(E) -> T {
        var hasher = Hasher()
        hasher.combine(key)
        let index = Int(UInt(bitPattern: hasher.finalize()) % UInt(stripes.count))
        return try stripes[index].withLock(body)
    }
}
