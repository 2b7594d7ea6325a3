import Shared

/// Where blobs live. The filesystem store is the first; an S3-compatible one can replace it.
///
/// Knows nothing of HTTP or of the metadata index. Every method may be called from any thread.
public protocol BlobStore: Sendable {
    /// The visibility under which `digest` is stored, or nil when it is in neither folder.
    func locate(_ digest: Digest) throws(StorageError) -> Visibility?

    /// Opens a blob for serving (the GET path: no SQLite). Nil when not stored. The caller owns the descriptor.
    func openForReading(_ digest: Digest) throws(StorageError) -> OpenBlob?

    /// Starts an upload that will be verified against `digest` and `expectedSize` before it is published.
    func beginUpload(_ digest: Digest, visibility: Visibility, expectedSize: Int64) throws(StorageError) -> any BlobUpload

    /// Moves a stored blob to the other folder atomically; true when it moved, false when it already had `visibility`.
    @discardableResult
    func setVisibility(_ digest: Digest, to visibility: Visibility) throws(StorageError) -> Bool

    /// Removes a stored blob; returns the visibility it had. Throws `.notFound` when it is in neither folder.
    @discardableResult
    func delete(_ digest: Digest) throws(StorageError) -> Visibility

    /// Removes temp files left by uploads that no process is writing any more; returns how many it removed.
    /// Never removes an upload still in flight, in this process or another one sharing the store.
    @discardableResult
    func sweepTemporaryFiles() throws(StorageError) -> Int

    /// Finds again store folders removed and made again (or replaced) behind the server's back; true when one
    /// changed. Cheap (a few `stat` calls); run now and then while serving.
    @discardableResult
    func refreshFolders() -> Bool

    /// nil when the store takes a write right now (for health checks); else what is wrong.
    func checkWritable() -> String?
}

/// A blob opened for reading: the descriptor belongs to the caller, who must close it.
public struct OpenBlob: Sendable {
    /// An open read-only file descriptor positioned at 0.
    public let fd: Int32
    /// Size in bytes, from `fstat` of that descriptor.
    public let size: Int64
    /// The folder it was found in.
    public let visibility: Visibility
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
/// Used by one thread at a time, but may be handed from one thread to another between calls (the app writes on an
/// event-loop thread and commits on a worker): implementations synchronise internally so the hand-off is safe.
/// After any failure the upload is closed and its temp data removed; later calls throw `.uploadClosed`.
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

    /// Verifies size and digest, makes the data durable and publishes it under its final name. Blocking disk work.
    func commit() throws(StorageError) -> CommitOutcome

    /// Drops the upload and its temp data. Safe to call at any time, more than once.
    func abort()
}
