import Synchronization

/// A fixed set of locks picked by a key's hash: a per-key lock without a table that grows with the keys.
final class StripedLock: Sendable {
    /// One lock of the set (a class: a `Mutex` cannot be copied into an array).
    private final class Stripe: Sendable {
        let mutex = Mutex(())
    }

    private let stripes: [Stripe]

    /// Makes `count` stripes; two keys share a lock only when their hashes collide modulo `count`.
    init(count: Int = 64) {
        stripes = (0..<count).map { _ in Stripe() }
    }

    /// Runs `body` while holding the stripe of `key`.
    func withLock<T, E: Error>(for key: some Hashable, _ body: () throws(E) -> T) throws(E) -> T {
        var hasher = Hasher()
        hasher.combine(key)
        let index = Int(UInt(bitPattern: hasher.finalize()) % UInt(stripes.count))
        return try stripes[index].mutex.withLock { (_) throws(E) -> T in try body() }
    }
}
