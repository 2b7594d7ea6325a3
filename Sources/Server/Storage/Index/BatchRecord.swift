import Shared

/// One file of an upload batch, as the batch declared it.
public struct BatchFile: Sendable, Equatable {
    /// A bare filename (no `/`, `\`, NUL, `.` or `..`).
    public let filename: String
    /// The content's digest.
    public let digest: Digest
    /// Declared size in bytes.
    public let size: Int64
    /// Declared visibility.
    public let visibility: Visibility

    /// Makes a batch file entry.
    public init(filename: String, digest: Digest, size: Int64, visibility: Visibility) {
        self.filename = filename
        self.digest = digest
        self.size = size
        self.visibility = visibility
    }
}

/// An upload batch: who uploaded which files, when and why.
public struct BatchRecord: Sendable, Equatable {
    /// Increasing id (newer batches have larger ids).
    public let id: Int64
    /// The uploading token's user.
    public let author: String
    /// The uploader's message.
    public let message: String
    /// When, `YYYY-MM-DDTHH:MM:SSZ`.
    public let uploaded: String
    /// The files, sorted by filename.
    public let files: [BatchFile]
}
