import S3
import Shared
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Blobs as objects in an S3-compatible bucket, under the disk layout: `PREFIX/public/sha512/<hex>` and
/// `PREFIX/pvt/sha512/<hex>`, so `aws s3 sync` copies a store to disk and back, and `public/` can be put behind a CDN.
///
/// Only verified bytes appear under those keys: an upload streams into a multipart upload (or, when smaller than a
/// part, waits in memory) while it is hashed, and is completed only after the digest matched. Every method blocks on
/// the network: worker threads and commands only (the app reads remote blobs from its worker queue).
/// Reads of a blob whose place the index knows cost one request; visibility switches copy, then delete.
public final class S3BlobStore: BlobStore {
    public let client: S3Client
    /// The key prefix, empty or ending in `/`.
    let keyPrefix: String
    /// Multipart part size in bytes.
    let partSize: Int
    /// Parts of one upload sent at once.
    let partsInFlight: Int
    /// 8 MiB parts, 8 at a time: the AWS CLI's part size, and the pair that came closest to the CLI's own upload
    /// speed in `bench/s3` (bench/RESULTS.md) while an upload holds 72 MiB at most.
    public static let defaultPartSize = 8 << 20
    public static let defaultPartsInFlight = 8
    /// S3's most parts per upload: a larger body gets larger parts.
    static let maxParts: Int64 = 10_000
    /// Multipart uploads older than this many seconds that this process is not writing are aborted by the sweep.
    let abandonedAfter: Int64
    /// Uploads this process has in flight (their multipart ids), which the sweep leaves alone.
    let liveUploads = Mutex<Set<String>>([])
    /// Per-digest locks: in this process, an upload's last checks and its completion, and a visibility switch, never
    /// interleave for one digest (other processes are kept apart by `If-None-Match: *` on the same key only; see
    /// docs/S3.md).
    let locks = StripedLock()
    private let health = Mutex<(checked: Int64, problem: String?)>((0, nil))

    /// The largest object one CopyObject copies (S3's limit, 5 GiB); larger ones go by UploadPartCopy in
    /// `copyPieceSize` pieces (1 GiB).
    let copyLimit: Int64
    let copyPieceSize: Int64

    /// A store in `client`'s bucket under `prefix` (no leading or trailing `/`; empty for the bucket's top). The copy
    /// sizes are S3's; a test passes smaller ones to reach the multipart copy with megabytes.
    public init(
        client: S3Client, prefix: String, partSize: Int = defaultPartSize, partsInFlight: Int = defaultPartsInFlight,
        abandonedAfter: Int64 = 86_400,
        copyLimit: Int64 = 5 << 30, copyPieceSize: Int64 = 1 << 30
    ) {
        self.client = client
        self.keyPrefix = prefix.isEmpty ? "" : prefix + "/"
        self.partSize = partSize
        self.partsInFlight = partsInFlight
        self.abandonedAfter = abandonedAfter
        self.copyLimit = copyLimit
        self.copyPieceSize = copyPieceSize
    }

    public var location: String {
        "s3://\(client.configuration.bucket)" + (keyPrefix.isEmpty ? "" : "/" + keyPrefix.dropLast())
    }

    public var isLocal: Bool { false }

    /// The part size for a body of `size` bytes: `partSize`, or for a body over `maxParts` of those, the smallest
    /// whole number of MiB that fits it in `maxParts`.
    func partSize(for size: Int64) -> Int {
        let needed = (size + Self.maxParts - 1) / Self.maxParts
        let mib: Int64 = 1 << 20
        return max(partSize, Int((needed + mib - 1) / mib * mib))
    }

    /// The key of a blob with the given visibility.
    func key(_ digest: Digest, _ visibility: Visibility) -> String {
        "\(keyPrefix)\(visibility.folderName)/\(digest.algorithm.rawValue)/\(digest.hex)"
    }

    /// `s3://bucket/key`, for messages and fsck entries.
    func url(_ key: String) -> String { "s3://\(client.configuration.bucket)/\(key)" }

    /// The key behind an fsck entry (the inverse of `url`).
    func key(of entry: StoreEntry) -> String { String(entry.location.dropFirst(url("").count)) }

    /// The store's failure for an S3 error during `operation`.
    static func failure(_ error: S3Error, _ operation: String) -> StorageError {
        .unavailable(operation: operation, detail: error.description)
    }

    /// Where the blob is and its size (pvt/ first, as on disk), or nil.
    func find(_ digest: Digest) throws(StorageError) -> StoredBlob? {
        for visibility in [Visibility.internal, .public] {
            let info: S3ObjectInfo?
            do { info = try client.headObject(key: key(digest, visibility)) } catch {
                throw Self.failure(error, "HEAD")
            }
            if let info { return StoredBlob(visibility: visibility, size: info.size) }
        }
        return nil
    }

    public func locate(_ digest: Digest) throws(StorageError) -> Visibility? {
        try find(digest)?.visibility
    }

    public func openForReading(_ digest: Digest, known: StoredBlob?) throws(StorageError) -> OpenBlob? {
        var found = known
        if found == nil { found = try find(digest) }
        guard let found else { return nil }
        // Told "internal", a reader may fall back to the public copy (a switch to pvt/ not finished yet); told
        // "public", never to pvt/: the caller was only checked for public blobs.
        let remote = S3RemoteBlob(
            store: self, key: key(digest, found.visibility),
            fallback: found.visibility == .internal ? key(digest, .public) : nil)
        return OpenBlob(size: found.size, visibility: found.visibility, content: .remote(remote))
    }

    public func beginUpload(
        _ digest: Digest, visibility: Visibility, expectedSize: Int64
    ) throws(StorageError) -> any BlobUpload {
        S3Upload(store: self, digest: digest, visibility: visibility, expectedSize: expectedSize)
    }

    @discardableResult
    public func setVisibility(_ digest: Digest, to visibility: Visibility) throws(StorageError) -> Bool {
        let target = key(digest, visibility), source = key(digest, visibility.other)
        func move() throws(S3Error) -> Bool? {
            let there = try client.headObject(key: target)
            guard let from = try client.headObject(key: source) else { return there != nil ? false : nil }
            if there == nil { try copy(from: source, to: target, size: from.size) }
            // Copied (or left by a switch that stopped half-way): only now does the old name go.
            try client.deleteObject(key: source)
            return true
        }
        let moved: Bool?
        do { moved = try locks.withLock(for: digest) { () throws(S3Error) -> Bool? in try move() } } catch {
            throw Self.failure(error, "visibility switch")
        }
        guard let moved else { throw StorageError.notFound(digest) }
        return moved
    }

    /// A server-side copy: CopyObject up to `copyLimit`, UploadPartCopy in `copyPieceSize` pieces above.
    func copy(from source: String, to target: String, size: Int64) throws(S3Error) {
        guard size > copyLimit else { return try client.copyObject(from: source, to: target) }
        let id = try client.createMultipartUpload(key: target)
        do {
            var parts: [S3CompletedPart] = []
            var offset: Int64 = 0
            let piece = copyPieceSize
            while offset < size {
                let last = min(offset + piece, size) - 1
                let etag = try client.uploadPartCopy(
                    from: source, range: offset...last, key: target, uploadID: id,
                    partNumber: parts.count + 1)
                parts.append(S3CompletedPart(number: parts.count + 1, etag: etag))
                offset = last + 1
            }
            try client.completeMultipartUpload(key: target, uploadID: id, parts: parts)
        } catch {
            try? client.abortMultipartUpload(key: target, uploadID: id)
            throw error
        }
    }

    @discardableResult
    public func delete(_ digest: Digest) throws(StorageError) -> Visibility {
        guard let found = try find(digest) else { throw StorageError.notFound(digest) }
        do {
            for visibility in Visibility.allCases { try client.deleteObject(key: key(digest, visibility)) }
        } catch {
            throw Self.failure(error, "DELETE")
        }
        return found.visibility
    }

    /// Aborts multipart uploads under the prefix that began more than `abandonedAfter` seconds ago and that this
    /// process is not writing (a crashed server's). Another server's upload that takes longer than that is cut
    /// short too: its uploader gets 503 and retries.
    @discardableResult
    public func sweepTemporaryFiles() throws(StorageError) -> Int {
        let uploads: [S3MultipartUpload]
        do { uploads = try client.listMultipartUploads(prefix: String(keyPrefix.dropLast())) } catch {
            throw Self.failure(error, "listing multipart uploads")
        }
        let live = liveUploads.withLock { $0 }
        let now = Int64(time(nil))
        var aborted = 0
        for upload in uploads
        where upload.key.hasPrefix(keyPrefix) && !live.contains(upload.uploadID)
            && now - upload.initiated >= abandonedAfter
        {
            do { try client.abortMultipartUpload(key: upload.key, uploadID: upload.uploadID) } catch {
                throw Self.failure(error, "aborting an abandoned multipart upload")
            }
            aborted += 1
        }
        return aborted
    }

    public func refreshFolders() -> Bool { false }

    /// HeadBucket, at most every 5 seconds.
    public func checkWritable() -> String? {
        let now = Int64(time(nil))
        if let cached = health.withLock({ now - $0.checked < 5 ? Optional($0.problem) : nil }) { return cached }
        var problem: String?
        do { try client.headBucket() } catch { problem = "the bucket \(location) does not answer: \(error)" }
        health.withLock { $0 = (now, problem) }
        return problem
    }
}
