import Shared

/// What the index knows of one blob, whether or not it is stored right now.
public struct FileRecord: Sendable, Equatable {
    /// The blob's digest (carries the algorithm).
    public let digest: Digest
    /// Size in bytes (verified once `hasInstances` has been true; declared by a batch before that).
    public let size: Int64
    /// Visibility it is (or will be) stored with.
    public let visibility: Visibility
    /// When the index first heard of it, `YYYY-MM-DDTHH:MM:SSZ`.
    public let firstSeen: String
    /// True while the blob is stored.
    public let hasInstances: Bool
}

/// A file record with the batches that named it (newest first): `GET /file/sha512/<digest>`.
public struct FileDetails: Sendable, Equatable {
    /// The record.
    public let file: FileRecord
    /// Every batch that named this digest, with the filename it used there.
    public let batches: [FileMention]
}

/// One batch naming a file.
public struct FileMention: Sendable, Equatable {
    /// The batch's id.
    public let batchID: Int64
    /// The filename the batch gave the file.
    public let filename: String
    /// Who uploaded the batch.
    public let author: String
    /// Why.
    public let message: String
    /// When, `YYYY-MM-DDTHH:MM:SSZ`.
    public let uploaded: String
}
