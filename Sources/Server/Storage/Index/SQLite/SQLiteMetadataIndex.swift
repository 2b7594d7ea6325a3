import Shared
import Synchronization

/// The metadata index in one SQLite file (`root/tooltool.sqlite` by default): file records, upload batches, tokens
/// and settings.
///
/// Threading: each `SQLiteMetadataIndex` owns one SQLite connection and serialises every call on it with an internal
/// lock, so it may be shared, but calls then queue behind each other. For parallelism open more than one (the app:
/// one for its worker queue and one for the authenticator, shared by the event loops); WAL mode lets them read while
/// one writes, and writers wait up to the busy timeout for each other, also across processes (the `token` CLI writes
/// while the server runs).
///
/// What the server asks from a loop thread (`authenticate`, `dataVersion`, `tokenGeneration`) is a single indexed
/// read; `touch` writes are batched off the loops; batch creation and file updates are small transactions. No query
/// scans a whole table (see `searchBatches`).
public final class SQLiteMetadataIndex: MetadataIndex {
    /// What only one thread at a time may touch.
    private struct State {
        let connection: SQLiteConnection
        var cachedSecret: [UInt8]?
        /// The `data_version` at which `tokens_generation` was last read, and what it was (nil: read it again).
        var seenGeneration: (dataVersion: Int64, generation: Int64)?
    }

    /// Path of the SQLite file.
    public let path: String
    let clock: @Sendable () -> Int64
    private let state: Mutex<State>
    /// Stored blobs waiting to be recorded in one shared transaction (see `recordStored`).
    let storedGroup = GroupCommit<StoredFile, FileRecord, IndexError>()

    /// Opens (creating when missing) the index at `path` and migrates its schema to the current version.
    ///
    /// - Parameter clock: Unix seconds now; tests pass a fixed one.
    public init(path: String, clock: @escaping @Sendable () -> Int64 = WallClock.now) throws(IndexError) {
        self.path = path
        self.clock = clock
        let connection = try SQLiteConnection(path: path)
        try connection.execute("PRAGMA journal_mode = WAL")
        try connection.execute("PRAGMA synchronous = FULL")
        try connection.execute("PRAGMA foreign_keys = ON")
        try SQLiteSchema.migrate(connection, now: WallClock.iso8601(clock()))
        state = Mutex(State(connection: connection))
    }

    /// Opens the index of a store root: `root/tooltool.sqlite`.
    public convenience init(root: String, clock: @escaping @Sendable () -> Int64 = WallClock.now) throws(IndexError) {
        try self.init(path: root + "/tooltool.sqlite", clock: clock)
    }

    /// Runs `body` with exclusive use of the connection.
    func withConnection<T: Sendable>(_ body: (SQLiteConnection) throws(IndexError) -> T) throws(IndexError) -> T {
        try state.withLock { (state) throws(IndexError) -> T in try body(state.connection) }
    }

    /// The current time as the index stores it.
    func nowText() -> String { WallClock.iso8601(clock()) }

    /// A counter bumped (by triggers) whenever a token is created, revoked or changed; `touch` leaves it alone.
    ///
    /// Costs one `PRAGMA data_version` (no I/O) when no other connection committed since the last call: the
    /// counter is read again only when that number moved (also for other processes' commits, e.g. the `token`
    /// command) or this connection changed tokens itself (which `data_version` does not count).
    public func tokenGeneration() throws(IndexError) -> Int64 {
        try state.withLock { (state) throws(IndexError) -> Int64 in
            let db = state.connection
            let version = try db.query("PRAGMA data_version") { $0.int64(0) }.first ?? 0
            if let seen = state.seenGeneration, seen.dataVersion == version { return seen.generation }
            let generation =
                try db.query("SELECT value FROM settings WHERE key = 'tokens_generation'") { $0.int64(0) }.first ?? 0
            state.seenGeneration = (version, generation)
            return generation
        }
    }

    /// Runs `body` with the connection, then forgets the token generation it saw (for this connection's own token
    /// writes, which `data_version` does not count).
    func changingTokens<T: Sendable>(_ body: (SQLiteConnection) throws(IndexError) -> T) throws(IndexError) -> T {
        try state.withLock { (state) throws(IndexError) -> T in
            defer { state.seenGeneration = nil }
            return try body(state.connection)
        }
    }

    /// The server's 32-byte HMAC secret for signed upload URLs, made at random when the database was created.
    public func secret() throws(IndexError) -> [UInt8] {
        try state.withLock { (state) throws(IndexError) -> [UInt8] in
            if let cachedSecret = state.cachedSecret { return cachedSecret }
            let query = "SELECT value FROM settings WHERE key = 'hmac_secret'"
            guard let value = try state.connection.query(query, [], { $0.blob(0) }).first, value.count >= 32 else {
                throw IndexError.corrupt("settings.hmac_secret is missing or shorter than 32 bytes")
            }
            state.cachedSecret = value
            return value
        }
    }

    /// Not shared: one server per SQLite file, and that server's memory tracks its uploads in flight.
    public var isShared: Bool { false }
    /// Nothing to register (see `isShared`).
    public func beginUpload(_ digest: Digest, lease: Int64) throws(IndexError) -> Int64? { nil }
    /// Nothing to renew (see `isShared`).
    public func renewUploads(_ leases: [Int64], lease: Int64) throws(IndexError) {}
    /// Nothing to end (see `isShared`).
    public func endUpload(_ lease: Int64) throws(IndexError) {}
    /// Always false: the server's own memory answers (see `isShared`).
    public func uploadInFlight(_ digest: Digest) throws(IndexError) -> Bool { false }
}
