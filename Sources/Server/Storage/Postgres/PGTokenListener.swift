import CPostgres
import Dispatch
import Shared

#if canImport(Glibc)
import Glibc
import Synchronization
#endif

/// An in-memory copy of a PostgreSQL index's live tokens and their generation, kept current by a dedicated thread,
/// so that checking a token never waits on the database (and keeps working while it is down).
///
/// The thread holds one connection that `LISTEN`s on `tooltool_tokens` (the tokens trigger `NOTIFY`s it on every
/// create, revoke or change) and also re-reads the generation every `pollInterval`, which covers a notification
/// lost while the connection was down. When the generation moved it reloads every unrevoked token (one indexed
/// read; tokens number in the thousands at most). When the database goes away it reconnects every `pollInterval`.
final class PGTokenListener: Sendable {
    // Each connection is used only by the thread that made it.
    private struct State {
        var generation: Int64 = -1
        var tokens: [[UInt8]: TokenRecord] = [:]
        var stopped = false
    }

    /// The longest a token change can go unseen when notifications are lost, in milliseconds.
    static let pollInterval: Int32 = 500

    private let uri: String
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "tooltool.pg-token-listener")
    private let done = DispatchSemaphore(value: 0)

    static let snapshotStatement = PGStatement(
        name: "token_snapshot",
        sql: """
            SELECT (SELECT value FROM counters WHERE name = 'tokens_generation'), id, "user", token_hash, permissions
            FROM (SELECT 1) one LEFT JOIN tokens ON tokens.revoked IS NULL
            """)

    init(uri: String) { self.uri = uri }

    /// The generation of the tokens held.
    var generation: Int64 { state.withLock { $0.generation } }

    /// The live token whose SHA-256 is `hash`; nil when unknown or revoked. The lookup is keyed by the hash, as
    /// the SQLite index's is, so its timing depends on the hash, never on the token text.
    func token(hash: [UInt8]) -> TokenRecord? {
        state.withLock { $0.tokens[hash] }
    }

    /// Reloads the tokens on `db` when its generation differs from the one held (in one consistent snapshot).
    func refresh(_ db: PGConnection) throws(IndexError) {
        let current = try PostgresMetadataIndex.readGeneration(db)
        guard current != generation else { return }
        let rows = try db.transaction { () throws(IndexError) -> PGResult in
            try db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            return try db.run(Self.snapshotStatement)
        }
        var tokens: [[UInt8]: TokenRecord] = [:]
        var loaded: Int64 = current
        for row in 0..<rows.count {
            loaded = rows.int64(row, 0)
            guard !rows.isNull(row, 1) else { continue }
            let permissions = try Permission.parseList(rows.text(row, 4))
            tokens[rows.bytes(row, 3)] = TokenRecord(
                id: rows.int64(row, 1), user: rows.text(row, 2),
                permissions: Set(permissions))
        }
        state.withLock { state in
            guard loaded >= state.generation else { return }  // another thread stored a newer snapshot meanwhile
            state.generation = loaded
            state.tokens = tokens
        }
    }

    /// Starts the listening thread.
    func start() {
        queue.async { [self] in
            run()
            done.signal()
        }
    }

    /// Stops the thread and waits for it (at most one poll interval).
    func stop() {
        state.withLock { $0.stopped = true }
        done.wait()
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    private func run() {
        while !isStopped {
            do {
                let db = try PGConnection(uri: uri)
                try db.execute("LISTEN tooltool_tokens")
                try refresh(db)
                while !isStopped {
                    var descriptor = pollfd(fd: PQsocket(db.handle), events: Int16(POLLIN), revents: 0)
                    _ = poll(&descriptor, 1, Self.pollInterval)
                    guard PQconsumeInput(db.handle) == 1 else { break }
                    while let notice = PQnotifies(db.handle) { PQfreemem(notice) }
                    try refresh(db)
                }
            } catch {
                // Down or failing over: the tokens held stay in use; try again after a pause.
            }
            if !isStopped { usleep(UInt32(Self.pollInterval) * 1000) }
        }
    }
}
