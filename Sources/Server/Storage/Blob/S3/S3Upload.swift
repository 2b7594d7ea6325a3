import Dispatch
import S3
import Shared
import Synchronization

/// An upload into the bucket: bytes are hashed as they come; parts of `partSize` go up as a multipart upload while
/// the next part fills, and the upload is completed only once the digest matched (aborted otherwise), so nothing
/// unverified ever appears under a blob's key. A body smaller than a part waits in memory and goes up in one
/// PutObject after verification. Memory: at most `partsInFlight` + 1 parts per upload (those being sent, one filling):
/// 72 MiB with the defaults (8 parts of 8 MiB in flight).
///
/// `@unchecked Sendable`: the upload is used by one thread at a time (the app's upload queue), which alone touches
/// the buffer, hasher and counters; part results arrive on the S3 loop and go through `parts` (a `Mutex`), and the
/// parts-in-flight bound is a semaphore.
final class S3Upload: BlobUpload, @unchecked Sendable {
    let digest: Digest
    let visibility: Visibility
    let expectedSize: Int64
    private(set) var bytesWritten: Int64 = 0

    private let store: S3BlobStore
    private let key: String
    private let hasher: HashPipeline
    private var buffer: [UInt8] = []
    private var uploadID: String?
    private var partNumber = 0
    private var closed = false
    /// This upload's part size (`S3BlobStore.partSize(for:)`) and how many are sent at once, each on its own
    /// connection.
    private let partSize: Int
    private let partsInFlight: Int
    private let sending: DispatchSemaphore
    private struct Parts {
        var done: [S3CompletedPart] = []
        var failure: S3Error?
    }
    private let parts = Mutex(Parts())

    init(store: S3BlobStore, digest: Digest, visibility: Visibility, expectedSize: Int64) {
        self.store = store
        self.digest = digest
        self.visibility = visibility
        self.expectedSize = expectedSize
        key = store.key(digest, visibility)
        hasher = HashPipeline(algorithm: digest.algorithm, expectedSize: expectedSize)
        partSize = store.partSize(for: expectedSize)
        partsInFlight = store.partsInFlight
        sending = DispatchSemaphore(value: store.partsInFlight)
    }

    deinit { abort() }

    func write(_ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        guard !closed else { throw StorageError.uploadClosed(digest) }
        let got = bytesWritten + Int64(bytes.count)
        if got > expectedSize {
            abort()
            throw StorageError.tooLarge(expectedSize: expectedSize, got: got)
        }
        hasher.update(bytes)
        bytesWritten = got
        var rest = bytes
        while !rest.isEmpty {
            if buffer.isEmpty { buffer.reserveCapacity(Int(min(Int64(partSize), expectedSize))) }
            let take = min(rest.count, partSize - buffer.count)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[..<take]))
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
            // A full part goes when more is to come: the last part (or a small body) waits for the verdict.
            if buffer.count == partSize, bytesWritten < expectedSize || !rest.isEmpty {
                try sendPart()
            }
        }
    }

    /// Sends the buffer as the next part, once fewer than `partsInFlight` are on their way.
    private func sendPart() throws(StorageError) {
        sending.wait()
        if let failure = parts.withLock({ $0.failure }) {
            sending.signal()
            abort()
            throw S3BlobStore.failure(failure, "UploadPart")
        }
        if uploadID == nil {
            do { uploadID = try store.client.createMultipartUpload(key: key) } catch {
                sending.signal()
                abort()
                throw S3BlobStore.failure(error, "CreateMultipartUpload")
            }
            store.liveUploads.withLock { _ = $0.insert(uploadID!) }
        }
        partNumber += 1
        let number = partNumber, body = buffer
        buffer = []
        store.client.uploadPart(key: key, uploadID: uploadID!, partNumber: number, body: body) { [self] result in
            parts.withLock { parts in
                switch result {
                case .success(let etag): parts.done.append(S3CompletedPart(number: number, etag: etag))
                case .failure(let error): parts.failure = parts.failure ?? error
                }
            }
            sending.signal()
        }
    }

    func commit() throws(StorageError) -> CommitOutcome {
        guard !closed else { throw StorageError.uploadClosed(digest) }
        let actual = hasher.finish()
        guard actual == digest, bytesWritten == expectedSize else {
            abort()
            throw StorageError.digestMismatch(
                expected: digest, actual: actual, expectedSize: expectedSize, actualSize: bytesWritten)
        }
        do {
            if uploadID != nil {
                if !buffer.isEmpty { try sendPart() }
                for _ in 0..<partsInFlight { sending.wait() }  // every part is in
                for _ in 0..<partsInFlight { sending.signal() }
                let failure = parts.withLock { $0.failure }
                if let failure { throw failure }
            }
            return try store.locks.withLock(for: digest, publish)
        } catch let error as StorageError {
            abort()
            throw error
        } catch let error as S3Error {
            abort()
            throw S3BlobStore.failure(error, "storing \(digest.hex)")
        } catch {
            abort()
            throw StorageError.unavailable(operation: "storing \(digest.hex)", detail: "\(error)")
        }
    }

    /// The last checks and the write that makes the blob visible, under the digest's lock. The write is conditional
    /// (`If-None-Match: *`): when another upload, here or on another server, got there first, this one is dropped
    /// and reports `.alreadyExisted`, so exactly one upload publishes a blob.
    private func publish() throws -> CommitOutcome {
        if try store.client.headObject(key: store.key(digest, visibility.other)) != nil {
            abort()
            throw StorageError.visibilityConflict(digest, stored: visibility.other, requested: visibility)
        }
        if try store.client.headObject(key: key) != nil {
            abort()
            return .alreadyExisted
        }
        guard let uploadID else {
            do {
                try store.client.putObject(key: key, body: buffer, onlyIfAbsent: true)
            } catch {
                guard error.isPreconditionFailed else { throw error }
                abort()
                return .alreadyExisted
            }
            closed = true
            buffer = []
            return .stored
        }
        let done = parts.withLock { $0.done }.sorted { $0.number < $1.number }
        do {
            try store.client.completeMultipartUpload(key: key, uploadID: uploadID, parts: done, onlyIfAbsent: true)
        } catch {
            if error.isPreconditionFailed {
                abort()
                return .alreadyExisted
            }
            // An answer lost after S3 completed the upload (a retry then finds no such upload): the object is
            // there, whole. Anything else failed.
            guard try store.client.headObject(key: key)?.size == expectedSize else { throw error }
        }
        store.liveUploads.withLock { _ = $0.remove(uploadID) }
        closed = true
        return .stored
    }

    func abort() {
        guard !closed else { return }
        closed = true
        buffer = []
        guard let uploadID else { return }
        // Fire and forget: a part still in flight may land after this; the sweep aborts such leftovers later.
        store.client.abortMultipartUpload(key: key, uploadID: uploadID) { [store] _ in
            store.liveUploads.withLock { _ = $0.remove(uploadID) }
        }
    }
}
