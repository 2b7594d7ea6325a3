import Shared

/// The rules that involve both the blob store and the metadata index, in one place for every pair of backends.
///
/// The store is the truth about what is stored and where; the index follows it. The orders below keep two promises
/// for readers on any server, including ones that learn a blob's place from the index (remote stores): a caller
/// without `download.internal` never reads an internal blob, and an authorized caller always finds it.
/// - Made internal: the index first, then the store (a reader told "internal" falls back to the public copy
///   while it still exists; nobody is told "public" for a blob on its way to pvt/ once the index changed).
/// - Made public: the store first, then the index (a reader told "internal" still finds the public copy).
///
/// Every method blocks (store and index work): worker threads and commands only.
public struct BlobCatalog: Sendable {
    public let store: any BlobStore
    public let index: any MetadataIndex

    public init(store: any BlobStore, index: any MetadataIndex) {
        self.store = store
        self.index = index
    }

    /// Publishes a verified upload, then records it. Throws `StorageError` (nothing published) or `IndexError`
    /// (published, not yet recorded: the store is the truth, and the next reconcile or the client's retry records it).
    public func commit(_ upload: any BlobUpload) throws -> (record: FileRecord, outcome: CommitOutcome) {
        let outcome = try upload.commit()
        let record = try index.recordStored(upload.digest, size: upload.expectedSize, visibility: upload.visibility)
        return (record, outcome)
    }

    /// Opens a blob for serving. A remote store is told where the index says the blob is, so finding it costs no
    /// request to the store; with the index down (or silent), the store finds it itself.
    public func openForServing(_ digest: Digest) throws(StorageError) -> OpenBlob? {
        if store.isLocal { return try store.openForReading(digest, known: nil) }
        let record = try? index.file(digest)
        let known = record.flatMap { $0.hasInstances ? StoredBlob(visibility: $0.visibility, size: $0.size) : nil }
        return try store.openForReading(digest, known: known)
    }

    /// Switches a blob's visibility in the store and the index, in the order that keeps readers safe. With
    /// `mustBeStored`, a blob the store does not hold throws `.notFound`; else only the index changes. A stored blob
    /// the index lacks (copied in by hand) is recorded. Returns whether the store moved it.
    @discardableResult
    public func setVisibility(_ digest: Digest, to visibility: Visibility, mustBeStored: Bool) throws -> Bool {
        let record = try index.file(digest)
        if visibility == .internal, record != nil { try index.setVisibility(digest, to: visibility) }
        var moved = false
        var stored = true
        do { moved = try store.setVisibility(digest, to: visibility) } catch StorageError.notFound {
            if mustBeStored { throw StorageError.notFound(digest) }
            stored = false
        }
        if record != nil {
            if visibility == .public { try index.setVisibility(digest, to: visibility) }
        } else if stored, let blob = try store.openForReading(digest) {
            blob.close()
            try index.recordStored(digest, size: blob.size, visibility: visibility)
        }
        return moved
    }

    /// Removes a blob from the store (when there) and marks its record as having no instances.
    public func deleteInstances(_ digest: Digest) throws {
        do { try store.delete(digest) } catch StorageError.notFound {}
        try index.markInstancesGone(digest)
    }

    /// Brings the index's record of one digest in line with the store: a blob dropped in by hand gets a record, a
    /// blob removed by hand loses its instances. The index is read before the store, so a PUT that commits meanwhile
    /// is never marked gone; `uploadInFlight` (asked only then) leaves a digest being uploaded alone. Returns what
    /// the store holds, nil when nothing.
    @discardableResult
    public func reconcile(_ digest: Digest, uploadInFlight: () throws -> Bool) throws -> StoredBlob? {
        try settle(digest, record: try index.file(digest), uploadInFlight: uploadInFlight)
    }

    /// `reconcile` of several digests with the index read once for all of them (still before the store, for each).
    /// Returns what the store holds of those it holds.
    public func reconcile(_ digests: [Digest], uploadInFlight: (Digest) throws -> Bool) throws -> [Digest: StoredBlob] {
        let records = try index.files(digests)
        var held: [Digest: StoredBlob] = [:]
        for digest in digests {
            if let blob = try settle(digest, record: records[digest], uploadInFlight: { try uploadInFlight(digest) }) {
                held[digest] = blob
            }
        }
        return held
    }

    /// The rule of `reconcile`, given the record read before the store was asked.
    private func settle(_ digest: Digest, record: FileRecord?, uploadInFlight: () throws -> Bool) throws -> StoredBlob?
    {
        guard let blob = try store.openForReading(digest) else {
            if let record, record.hasInstances, try !uploadInFlight() {
                try index.markInstancesGone(digest)
            }
            return nil
        }
        blob.close()
        if record == nil || record?.hasInstances == false || record?.size != blob.size
            || record?.visibility != blob.visibility
        {
            try index.recordStored(digest, size: blob.size, visibility: blob.visibility)
        }
        return StoredBlob(visibility: blob.visibility, size: blob.size)
    }
}
