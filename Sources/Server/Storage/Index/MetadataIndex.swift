import Shared

/// The metadata index in `root/tooltool.sqlite`: file records, upload batches, tokens and settings.
///
/// Threading: each `MetadataIndex` owns one SQLite connection and serialises every call on it with an internal
/// lock, so it may be shared, but calls then queue behind each other. For parallelism open more than one (the app:
/// one for its worker queue and one for the authenticator, shared by the event loops); WAL mode lets them read while
/// one writes, and writers wait up to the busy timeout for each other, also across processes (the `token` CLI writes
/// while the server runs).
///
/// What the server asks from a loop thread (`authenticate`, `dataVersion`, `tokenGeneration`) is a single indexed
/// read; `touch` writes are batched off the loops; batch creation and file updates are small transactions. No query
/// scans a whole table (see `searchBatches`).
public final class MetadataIndex: @unchecked Sendable {
    // @unchecked Sendable: `connection` and `cachedSecret` are only touched inside `lock.withLock`; `clock` is a
    // @Sendable function and `path` is immutable.
    /// Path of the SQLite file.
    public let path: String
    let clock: @Sendable () -> Int64
    private let lock = Lock()
    private let connection: SQLiteConnection
    private var cachedSecret: [UInt8]?

    /// Opens (creating when missing) the index at `path` and migrates its schema to the current version.
    ///
    /// - Parameter clock: Unix seconds now; tests pass a fixed one.
    public init(path: String, clock: @escaping @Sendable () -> Int64 = Timestamp.now) throws(IndexError) {
        self.path = path
        self.clock = clock
        connection = try SQLiteConnection(path: path)
        try connection.execute("PRAGMA journal_mode = WAL")
        try connection.execute("PRAGMA synchronous = FULL")
        try connection.execute("PRAGMA foreign_keys = ON")
        try Schema.migrate(connection, now: Timestamp.iso8601(clock()))
    }

    /// Opens the index of a store root: `root/tooltool.sqlite`.
    public convenience init(root: String, clock: @escaping @Sendable () -> Int64 = Timestamp.now) throws(IndexError) {
        try self.init(path: root + "/tooltool.sqlite", clock: clock)
    }

    /// Runs `body` with exclusive use of the connection.
    func withConnection<T>(_ body: (SQLiteConnection) throws(IndexError) -> T) throws(IndexError) -> T {
        try lock.withLock { () throws(IndexError) -> T in try body(connection) }
    }

    /// The current time as the index stores it.
    func nowText() -> String { Timestamp.iso8601(clock()) }

    /// `PRAGMA data_version`: changes whenever *another* connection (thread or process) commits a change.
    ///
    /// Costs no I/O. Cheap enough to call per request; when it changed, call `tokenGeneration()` to see whether
    /// tokens changed (other connections' `touch` writes also move this number).
    public func dataVersion() throws(IndexError) -> Int64 {
        try withConnection { (db) throws(IndexError) -> Int64 in
            try db.query("PRAGMA data_version") { $0.int64(0) }.first ?? 0
        }
    }

    /// A counter bumped (by triggers) whenever a token is created, revoked or changed; `touch` leaves it alone.
    /// The app caches token lookups and drops its cache when this moves.
    public func tokenGeneration() throws(IndexError) -> Int64 {
        try withConnection { (db) throws(IndexError) -> Int64 in
            try db.query("SELECT value FROM settings WHERE key = 'tokens_generation'") { $0.int64(0) }.first ?? 0
        }
    }

    /// The server's 32-byte HMAC secret for signed upload URLs, made at random when the database was created.
    public func secret() throws(IndexError) -> [UInt8] {
        try withConnection { (db) throws(IndexError) -> [UInt8] in
            if let cachedSecret { return cachedSecret }
            guard let value = try db.query("SELECT value FROM settings WHERE key = 'hmac_secret'", [], { $0.blob(0) }).first,
                  value.count >= 32 else {
                throw IndexError.corrupt("settings.hmac_secret is missing or shorter than 32 bytes")
            }
            cachedSecret = value
            return value
        }
    }
}
