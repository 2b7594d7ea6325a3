import Shared

/// The metadata index: file records, upload batches, tokens (hashed), the upload-URL secret. The routes, the
/// authenticator and the commands see only this protocol; `SQLiteMetadataIndex` (one file per store, the default)
/// and `PostgresMetadataIndex` (shared by several servers) implement it, and `IndexLocation.open` picks one.
///
/// Every method may block on I/O (a disk, a database): call it from a worker thread, never from an event loop,
/// except `tokenGeneration`, which an implementation keeps cheap enough for the authenticator to call from one.
/// Implementations are safe to call from any thread.
public protocol MetadataIndex: AnyObject, Sendable {
    /// Records an upload batch by `author`, after `BatchValidation.check`; for files already stored the size and
    /// visibility must match (`.sizeConflict`, `.visibilityConflict`). Files not yet known get a record without
    /// instances (their PUT will follow).
    func createBatch(author: String, message: String, files: [BatchFile]) throws(IndexError) -> BatchRecord
    /// One batch by id, or nil.
    func batch(id: Int64) throws(IndexError) -> BatchRecord?
    /// Batches whose author or message contains `text` (case-insensitive), newest first, at most `limit`, only
    /// those with an id below `before` when it is given (the next page starts below the last id of this one).
    func searchBatches(_ text: String, before: Int64?, limit: Int) throws(IndexError) -> [BatchRecord]

    /// Records a verified, stored blob: size and visibility as stored win over what a batch declared.
    @discardableResult
    func recordStored(_ digest: Digest, size: Int64, visibility: Visibility) throws(IndexError) -> FileRecord
    /// Sets a known file's visibility (after the blob store moved it); `.notFound` for an unknown digest.
    @discardableResult
    func setVisibility(_ digest: Digest, to visibility: Visibility) throws(IndexError) -> FileRecord
    /// Marks a file's blob as gone, keeping its history; `.notFound` for an unknown digest.
    @discardableResult
    func markInstancesGone(_ digest: Digest) throws(IndexError) -> FileRecord
    /// The record of one file, or nil.
    func file(_ digest: Digest) throws(IndexError) -> FileRecord?
    /// The records of those of `digests` the index knows, read at once (a batch of 1,000 files: one query).
    func files(_ digests: [Digest]) throws(IndexError) -> [Digest: FileRecord]
    /// The record of one file with every batch that named it (newest first), or nil.
    func fileDetails(_ digest: Digest) throws(IndexError) -> FileDetails?
    /// Files whose digest starts with `text` (lowercase hex) or that a batch named with a filename containing
    /// `text` (case-insensitive), most recently named first, at most `limit`, only of `visibilities`.
    func searchFiles(_ text: String, visibilities: Set<Visibility>, limit: Int) throws(IndexError) -> [FileRecord]
    /// Up to `limit` records that say their blob is stored, in digest order after `after` (fsck pages through them).
    func storedFiles(after: String, limit: Int) throws(IndexError) -> [FileRecord]
    /// Files and bytes stored per visibility (kept up to date by the index, so reading them scans nothing).
    func visibilityTotals() throws(IndexError) -> [Visibility: VisibilityTotals]

    /// Makes a token for `user` (256 random bits as 64 hex characters); only its SHA-256 is stored.
    func createToken(user: String, permissions: Set<Permission>) throws(IndexError) -> (id: Int64, token: String)
    /// Every token, oldest first, without the token or its hash.
    func listTokens() throws(IndexError) -> [TokenInfo]
    /// Revokes a token; false when it was already revoked, `.notFound` for an unknown id.
    @discardableResult
    func revokeToken(id: Int64) throws(IndexError) -> Bool
    /// The record of the token whose SHA-256 is `hash`, or nil when it is unknown or revoked.
    func authenticate(tokenHash hash: [UInt8]) throws(IndexError) -> TokenRecord?
    /// Records that these tokens were used now (the app batches its touches); leaves `tokenGeneration` alone.
    func touch(tokenIDs: [Int64]) throws(IndexError)
    /// A number that moves whenever a token is created, revoked or changed, by anyone. Cheap: the authenticator
    /// calls it every few hundred milliseconds and drops its token cache when it moves.
    func tokenGeneration() throws(IndexError) -> Int64

    /// The 32-byte (or longer) HMAC secret for signed upload URLs, made at random when the index was created.
    func secret() throws(IndexError) -> [UInt8]

    /// True when other servers may share this index (PostgreSQL): then uploads in flight are registered in it with
    /// a lease. False for SQLite, one server per file, whose own memory already knows every upload in flight.
    var isShared: Bool { get }
    /// Registers an upload of `digest` starting on this server, in flight for every server for `lease` seconds
    /// unless renewed or ended. Returns the lease's id (nil when the index is not shared).
    func beginUpload(_ digest: Digest, lease: Int64) throws(IndexError) -> Int64?
    /// Extends these leases to `lease` seconds from now (uploads still streaming).
    func renewUploads(_ leases: [Int64], lease: Int64) throws(IndexError)
    /// Ends a lease (the upload finished or failed).
    func endUpload(_ lease: Int64) throws(IndexError)
    /// True while any server holds an unexpired lease on an upload of `digest`.
    func uploadInFlight(_ digest: Digest) throws(IndexError) -> Bool
}

extension MetadataIndex {
    /// `searchBatches` with tooltool's page of 50.
    public func searchBatches(_ text: String, limit: Int = 50) throws(IndexError) -> [BatchRecord] {
        try searchBatches(text, before: nil, limit: limit)
    }

    /// `searchFiles` over every visibility (or `visibilities`), at most 100.
    public func searchFiles(
        _ text: String, visibilities: Set<Visibility> = Set(Visibility.allCases)
    ) throws(IndexError) -> [FileRecord] {
        try searchFiles(text, visibilities: visibilities, limit: 100)
    }

    /// The token's record, or nil when it is unknown or revoked.
    public func authenticate(token: String) throws(IndexError) -> TokenRecord? {
        try authenticate(tokenHash: Crypto.sha256(Array(token.utf8)))
    }

    /// Records that a token was used now.
    public func touch(tokenID: Int64) throws(IndexError) {
        try touch(tokenIDs: [tokenID])
    }
}

/// Stored files and bytes of one visibility, as `/metrics` reports them.
public struct VisibilityTotals: Sendable, Equatable {
    /// Blobs stored (files with instances).
    public let files: Int64
    /// Their bytes.
    public let bytes: Int64

    /// Makes totals.
    public init(files: Int64, bytes: Int64) {
        self.files = files
        self.bytes = bytes
    }
}
