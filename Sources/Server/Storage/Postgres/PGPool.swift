import Dispatch
import Synchronization

/// A bounded pool of connections to one PostgreSQL database.
///
/// At most `size` connections exist; a caller waits up to `waitTimeout` for one, then gets `.unavailable`.
/// Connections are made on demand and dropped when they break, so the pool recovers by itself when the database
/// comes back. Callers block while they wait or query: use it from worker threads, never an event loop.
final class PGPool: Sendable {
    /// The connection URI.
    let uri: String
    /// Most connections open at once.
    let size: Int
    /// Longest wait for a free connection.
    let waitTimeout: DispatchTimeInterval
    private let slots: DispatchSemaphore
    private let idle = IdleConnections()

    /// A pool of at most `size` connections to `uri`; none is opened yet.
    init(uri: String, size: Int, waitTimeout: DispatchTimeInterval = .seconds(5)) {
        self.uri = uri
        self.size = size
        self.waitTimeout = waitTimeout
        slots = DispatchSemaphore(value: size)
    }

    /// Runs `body` with a connection of its own. A reused connection that turns out to be broken (the server
    /// restarted since it was last used) is replaced and `body` run once more, on a fresh one.
    func withConnection<T>(_ body: (PGConnection) throws(IndexError) -> T) throws(IndexError) -> T {
        guard slots.wait(timeout: .now() + waitTimeout) == .success else {
            throw IndexError.unavailable("all \(size) database connections stayed busy for \(waitTimeout)")
        }
        defer { slots.signal() }
        if let reused = idle.take() {
            do {
                let value = try body(reused)
                idle.give(reused)
                return value
            } catch {
                if reused.isHealthy {
                    idle.give(reused)
                    throw error
                }
                // The connection broke (the server restarted since its last use); its transaction, if any, died
                // with it, so `body` runs once more below on a fresh connection. If that fails too, the caller
                // hears why.
                guard case .unavailable = error else { throw error }
            }
        }
        let fresh = try PGConnection(uri: uri)
        let value = try body(fresh)
        if fresh.isHealthy { idle.give(fresh) }
        return value
    }
}

/// The pool's idle connections.
private final class IdleConnections: Sendable {
    private let connections = Mutex<[PGConnection]>([])

    func take() -> PGConnection? { connections.withLock { $0.popLast() } }
    func give(_ connection: sending PGConnection) { connections.withLock { $0.append(connection) } }
}
