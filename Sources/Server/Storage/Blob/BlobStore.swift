import Shared

/// Where blobs live: the disk store (`FileSystemBlobStore`, the default) or an S3-compatible bucket.
///
/// Knows nothing of HTTP or of the metadata index (`BlobCatalog` holds the rules that involve both). Every method
/// may be called from any thread; the ones that may wait on a disk or the network say so, and must not be called on
/// an event loop unless `isLocal` says the store only touches local files.
public protocol BlobStore: Sendable {
    /// Where the store is, for messages: a folder, or `s3://bucket/prefix`.
    var location: String { get }

    /// True when reads only open local files (cheap enough for an event-loop thread); false when finding or
    /// reading a blob waits on the network.
    var isLocal: Bool { get }

    /// The visibility under which `digest` is stored, or nil when it is in neither place. pvt/ counts first.
    func locate(_ digest: Digest) throws(StorageError) -> Visibility?

    /// Opens a blob for serving; nil when not stored. `known` is where the index says the blob is: a remote store
    /// then spends no request finding it (a local one ignores it). A `.file` content's descriptor belongs to the
    /// caller.
    func openForReading(_ digest: Digest, known: StoredBlob?) throws(StorageError) -> OpenBlob?

    /// Where `digest` is stored and its size, from one look: what a PUT needs to decide whether to read its body.
    /// nil when not found, which may miss a blob moving between visibilities at that instant or a store folder
    /// replaced by hand since the last `refreshFolders`: an upload's publish checks again, so such a miss only costs
    /// reading a body. Cheap on a local store (two `fstatat`), may wait on the network on a remote one.
    func storedBlob(_ digest: Digest) throws(StorageError) -> StoredBlob?

    /// Starts an upload that will be verified against `digest` and `expectedSize` before it is published. On the disk
    /// store this creates, locks and renames its temp file (local metadata work, done on the loop like a GET's open).
    func beginUpload(
        _ digest: Digest, visibility: Visibility, expectedSize: Int64
    ) throws(StorageError) -> any BlobUpload

    /// Moves a stored blob to the other visibility; true when it moved, false when it already had `visibility`.
    /// A reader finds it under one name or the other throughout (pvt/ first).
    @discardableResult
    func setVisibility(_ digest: Digest, to visibility: Visibility) throws(StorageError) -> Bool

    /// Removes a stored blob; returns the visibility it had. Throws `.notFound` when it is in neither place.
    @discardableResult
    func delete(_ digest: Digest) throws(StorageError) -> Visibility

    /// Removes what uploads left behind when nobody is writing them any more (temp files, abandoned multipart
    /// uploads); returns how many it removed. Never removes an upload in flight in this or another process.
    @discardableResult
    func sweepTemporaryFiles() throws(StorageError) -> Int

    /// Finds again store folders removed and made again behind the server's back; true when one changed. Cheap;
    /// run now and then while serving. A remote store has nothing to do.
    @discardableResult
    func refreshFolders() -> Bool

    /// nil when the store takes a write right now (for health checks); else what is wrong.
    func checkWritable() -> String?

    /// Calls `body` with every entry under one visibility, in no particular order (fsck). Blocking and long.
    func forEachEntry(_ visibility: Visibility, _ body: (StoreEntry) throws -> Void) throws

    /// Re-hashes an entry's content (fsck). Blocking.
    func rehash(_ entry: StoreEntry) throws(StorageError) -> FileDigest

    /// Moves a bad entry under `quarantine/`, never deleting it; returns where it went (fsck --repair).
    func quarantine(_ entry: StoreEntry) throws(StorageError) -> String
}

extension BlobStore {
    /// Opens a blob for serving, finding it first.
    public func openForReading(_ digest: Digest) throws(StorageError) -> OpenBlob? {
        try openForReading(digest, known: nil)
    }

    /// `storedBlob` by opening the blob and closing it again (a remote store's HEAD request).
    public func storedBlob(_ digest: Digest) throws(StorageError) -> StoredBlob? {
        guard let blob = try openForReading(digest) else { return nil }
        blob.close()
        return StoredBlob(visibility: blob.visibility, size: blob.size)
    }
}

/// Where a blob is stored, and its size.
public struct StoredBlob: Sendable, Equatable {
    public let visibility: Visibility
    public let size: Int64

    public init(visibility: Visibility, size: Int64) {
        self.visibility = visibility
        self.size = size
    }
}

/// A blob opened for serving.
public struct OpenBlob: Sendable {
    /// Size in bytes.
    public let size: Int64
    /// Where it was found.
    public let visibility: Visibility
    /// How to get its bytes.
    public let content: BlobContent

    public init(size: Int64, visibility: Visibility, content: BlobContent) {
        self.size = size
        self.visibility = visibility
        self.content = content
    }

    /// The descriptor of a local file, nil for a remote blob.
    public var fd: Int32? {
        if case .file(let fd) = content { return fd }
        return nil
    }

    /// Closes a local file's descriptor (nothing to do for a remote blob): for a blob opened but not served.
    public func close() {
        if let fd { Disk.close(fd) }
    }
}

/// How an opened blob's bytes are read.
public enum BlobContent: Sendable {
    /// An open read-only descriptor positioned at 0 (sent with sendfile).
    case file(fd: Int32)
    /// An object in remote storage, streamed or redirected to.
    case remote(any RemoteBlob)
}

/// A blob in remote storage, read through the server or fetched by the client straight from the store.
public protocol RemoteBlob: Sendable {
    /// Starts reading bytes `range` into `receiver` (one request to the store); the reading can be paused,
    /// resumed and cancelled. Returns at once: the receiver hears from another thread.
    func read(_ range: ClosedRange<Int64>, into receiver: any BlobReceiver) -> any BlobReading

    /// A URL that serves the blob without credentials for `lifetime` seconds (a presigned URL).
    func temporaryURL(lifetime: Int) -> String
}

/// Hears how a remote read goes. Calls come from the store's threads, one at a time, in this order: `opened`, then
/// (when it succeeded) `received` any number of times, then `finished`.
public protocol BlobReceiver: AnyObject, Sendable {
    /// The store answered: bytes follow on success; on failure nothing else is called.
    func opened(_ result: Result<Void, StorageError>)
    /// The next bytes (valid only during the call; always taken). Return false to pause until `resume()`.
    func received(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// The read ended: nil when every byte of the range came.
    func finished(_ error: StorageError?)
}

/// A remote read in progress; any thread may use it.
public protocol BlobReading: Sendable {
    /// Goes on after a `received` answered false (harmless when the read is not paused).
    func resume()
    /// Stops; no more calls reach the receiver (one already under way may finish).
    func cancel()
}

/// One entry of a store as fsck walks it.
public struct StoreEntry: Sendable {
    /// Its name within its folder (a digest's hex when it is a blob).
    public let name: String
    /// Where it is, for the report: a path, or an `s3://` URL.
    public let location: String
    /// Its visibility folder.
    public let visibility: Visibility
    /// nil for a regular blob; else why it cannot be one (e.g. a directory).
    public let notABlob: String?

    public init(name: String, location: String, visibility: Visibility, notABlob: String?) {
        self.name = name
        self.location = location
        self.visibility = visibility
        self.notABlob = notABlob
    }
}

/// How a verified upload ended.
public enum CommitOutcome: Sendable, Equatable {
    /// The blob is new: this upload published it.
    case stored
    /// The same blob was already stored with the same visibility (or a racer published it first); nothing changed.
    case alreadyExisted
}

/// An upload in progress: bytes go in with `write`, then `commit` verifies and publishes, or `abort` drops it.
///
/// Used by one thread at a time, but may be handed from one thread to another between calls: implementations
/// synchronise internally so the hand-off is safe. Every call may block (disk writes, a part going to the object
/// store): never call it on an event loop. After any failure the upload is closed and its temp data removed; later
/// calls throw `.uploadClosed`.
public protocol BlobUpload: AnyObject, Sendable {
    /// The digest the content must have.
    var digest: Digest { get }
    /// Where the blob goes once verified.
    var visibility: Visibility { get }
    /// The size the content must have.
    var expectedSize: Int64 { get }
    /// Bytes accepted so far.
    var bytesWritten: Int64 { get }

    /// Appends bytes and feeds them to the verifier. Throws `.tooLarge` past `expectedSize`, `.diskFull`, `.io`.
    func write(_ bytes: UnsafeRawBufferPointer) throws(StorageError)

    /// Verifies size and digest, makes the data durable and publishes it under its final name.
    func commit() throws(StorageError) -> CommitOutcome

    /// Drops the upload and its temp data. Safe to call at any time, more than once.
    func abort()
}
