import Shared
import Synchronization

/// The metadata index in a PostgreSQL database, shared by several servers: the same records as
/// `SQLiteMetadataIndex`, behind a bounded pool of connections, each statement prepared once per connection.
///
/// Threading: every method blocks on the database; call them from worker threads (the app's index queue), never
/// from an event loop, except `tokenGeneration`, which reads a number the listener keeps up to date.
public final class PostgresMetadataIndex: MetadataIndex {
    /// The location, for messages (its description hides the password).
    public let location: IndexLocation
    let clock: @Sendable () -> Int64
    let pool: PGPool
    private let listener: PGTokenListener
    /// What the index remembers between calls.
    struct Cached: Sendable {
        var secret: [UInt8]?
        /// The filenames searches use to pick a word (see `FilenameSample`).
        var filenameSample: FilenameSample?
    }
    let cached = Mutex(Cached())

    /// How many connections the pool opens at most.
    public static let defaultPoolSize = 8

    /// Connects to `uri`, migrates the schema (under an advisory lock) and starts listening for token changes.
    ///
    /// - Parameter clock: Unix seconds now; tests pass a fixed one.
    public init(
        uri: String, poolSize: Int = PostgresMetadataIndex.defaultPoolSize,
        clock: @escaping @Sendable () -> Int64 = WallClock.now
    ) throws(IndexError) {
        location = .postgres(uri: uri)
        self.clock = clock
        pool = PGPool(uri: uri, size: poolSize)
        try pool.withConnection { (db) throws(IndexError) in try PostgresSchema.migrate(db) }
        listener = PGTokenListener(uri: uri)
        try pool.withConnection { (db) throws(IndexError) in try listener.refresh(db) }
        listener.start()
    }

    deinit { listener.stop() }

    /// The current time as the index stores it.
    func nowText() -> String { WallClock.iso8601(clock()) }

    /// Runs `body` with a pooled connection.
    func withConnection<T>(_ body: (PGConnection) throws(IndexError) -> T) throws(IndexError) -> T {
        try pool.withConnection(body)
    }

    /// The token generation as the listener last saw it: a `NOTIFY` from any server's token change moves it within
    /// milliseconds, and the listener also polls it every `PGTokenListener.pollInterval` in case a notification
    /// was lost (a dropped connection). Reads no database: safe on an event loop.
    public func tokenGeneration() throws(IndexError) -> Int64 {
        listener.generation
    }

    /// The live token with this hash, from the listener's in-memory copy of every unrevoked token (current within
    /// `PGTokenListener.pollInterval`, usually milliseconds). A hash the copy lacks may be a token made a moment ago
    /// whose notification is still on its way, so the copy is brought up to date first (one read of the generation
    /// counter, and a reload only when it moved) and asked again. With the database down, the copy is all there is:
    /// known tokens keep working. Blocks on a miss: worker queue only.
    public func authenticate(tokenHash hash: [UInt8]) throws(IndexError) -> TokenRecord? {
        if let record = listener.token(hash: hash) { return record }
        _ = try? withConnection { (db) throws(IndexError) in try listener.refresh(db) }
        return listener.token(hash: hash)
    }

    static let readGenerationStatement = PGStatement(
        name: "read_generation", sql: "SELECT value FROM counters WHERE name = 'tokens_generation'")

    static func readGeneration(_ db: PGConnection) throws(IndexError) -> Int64 {
        let rows = try db.run(readGenerationStatement)
        return rows.count == 0 ? 0 : rows.int64(0, 0)
    }

    /// Runs `body` (which changes tokens) and tells the listener the new generation at once, so this server sees
    /// its own change without waiting for the notification.
    func changingTokens<T>(_ body: (PGConnection) throws(IndexError) -> T) throws(IndexError) -> T {
        try withConnection { (db) throws(IndexError) -> T in
            let value = try body(db)
            try listener.refresh(db)
            return value
        }
    }

    /// The HMAC secret for signed upload URLs, shared by every server on this database.
    public func secret() throws(IndexError) -> [UInt8] {
        if let secret = cached.withLock({ $0.secret }) { return secret }
        let value = try withConnection { (db) throws(IndexError) -> [UInt8] in
            let rows = try db.run(
                PGStatement(name: "secret", sql: "SELECT value FROM secrets WHERE name = 'hmac_secret'"))
            return rows.count == 0 ? [] : rows.bytes(0, 0)
        }
        guard value.count >= 32 else {
            throw IndexError.corrupt("secrets.hmac_secret is missing or shorter than 32 bytes")
        }
        cached.withLock { $0.secret = value }
        return value
    }
}
