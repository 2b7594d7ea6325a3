import Shared
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One upload into a `FileSystemBlobStore`: a uniquely named temp file under `.tmp/` fed through SHA-512.
///
/// The temp file (`FileSystemBlobStore.createTemporaryFile`) holds an exclusive `flock` from before it has its
/// `.upload` name until after that name is gone, which tells `sweepTemporaryFiles` (of this or another process) that
/// someone is still writing it.
///
/// Thread safety: one caller at a time, but the caller may change threads between calls (`write` on an event loop,
/// `commit` on a worker). Every call takes an internal lock, which gives the hand-off its happens-before edge; the
/// lock is never contended in that use, so it costs a few nanoseconds per `write`.
///
/// Speed: uploads of `pipelineThreshold` bytes or more are hashed on a second core (`HashPipeline`) while the
/// caller writes, and every `writebackInterval` bytes their dirty pages are handed to the disk without waiting
/// (`POSIX_FADV_DONTNEED`, which also drops pages already written), so the `fsync` in `commit` has little left.
final class FileSystemUpload: BlobUpload, @unchecked Sendable {
    // @unchecked Sendable: the mutable state (`fd`, `hasher`, `written`, `writebackStart`, `closed`) is only touched
    // under `lock`; the other stored properties are immutable.
    /// Uploads at least this large hash on a second core (and hand dirty pages to the disk as they go).
    static let pipelineThreshold = HashPipeline.threadedThreshold
    /// Dirty pages of a large upload are handed to the disk every this many bytes.
    static let writebackInterval: Int64 = 16 * 1024 * 1024

    let digest: Digest
    let visibility: Visibility
    let expectedSize: Int64
    /// Path of the temp file (a new one when `.tmp/` was removed under this upload, see `relinkIfRemovedLocked`).
    private var temporaryPath: String
    private let store: FileSystemBlobStore
    private let lock = Lock()
    private var fd: Int32
    private let hasher: HashPipeline
    private var written: Int64 = 0
    private var writebackStart: Int64 = 0
    private var closed = false
    #if DEBUG
    /// Test builds: the failure planned for this upload (see `StorageFaults`).
    private let fault: StorageFaults.Fault?
    #endif

    init(store: FileSystemBlobStore, digest: Digest, visibility: Visibility, expectedSize: Int64) throws(StorageError) {
        self.store = store
        self.digest = digest
        self.visibility = visibility
        self.expectedSize = expectedSize
        #if DEBUG
        fault = store.faults?.next()
        if let fault, fault.operation == .open {
            throw StorageError.fromErrno(fault.code, call: "open", path: "\(store.temporaryDirectory)/(injected)")
        }
        #endif
        self.hasher = HashPipeline(algorithm: digest.algorithm, expectedSize: expectedSize)
        (fd, temporaryPath) = try store.createTemporaryFile(prefix: digest.hex.prefix(16))
        do {
            try store.checkRoom(fd: fd, path: temporaryPath, bytes: expectedSize)
        } catch {
            unlink(temporaryPath)
            close(fd)
            throw error
        }
    }

    deinit {
        // A writer dropped without commit or abort (a connection torn down) must not leave its temp file behind.
        if !closed {
            unlink(temporaryPath)
            close(fd)
        }
    }

    var bytesWritten: Int64 { lock.withLock { written } }

    func write(_ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        try lock.withLock { () throws(StorageError) in
            guard !closed else { throw StorageError.uploadClosed(digest) }
            guard written + Int64(bytes.count) <= expectedSize else {
                let got = written + Int64(bytes.count)
                closeAndRemoveLocked()
                throw StorageError.tooLarge(expectedSize: expectedSize, got: got)
            }
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            #if DEBUG
            if let fault, fault.operation == .write, written + Int64(bytes.count) > fault.offset {
                _ = Posix.writeAll(fd, base, Int(fault.offset - written))  // up to the offset, as a real failure might
                closeAndRemoveLocked()
                throw StorageError.fromErrno(fault.code, call: "write", path: temporaryPath)
            }
            #endif
            let code = Posix.writeAll(fd, base, bytes.count)
            if code != 0 {
                closeAndRemoveLocked()
                throw StorageError.fromErrno(code, call: "write", path: temporaryPath)
            }
            hasher.update(bytes)
            written += Int64(bytes.count)
            if written - writebackStart >= Self.writebackInterval && expectedSize >= Self.pipelineThreshold {
                // Best effort: the fsync in `commit` is what makes the bytes durable.
                _ = posix_fadvise(fd, off_t(writebackStart), off_t(written - writebackStart), POSIX_FADV_DONTNEED)
                writebackStart = written
            }
        }
    }

    func commit() throws(StorageError) -> CommitOutcome {
        try lock.withLock { () throws(StorageError) -> CommitOutcome in
            guard !closed else { throw StorageError.uploadClosed(digest) }
            let actual = hasher.finish()
            guard actual == digest, written == expectedSize else {
                closeAndRemoveLocked()
                throw StorageError.digestMismatch(expected: digest, actual: actual, expectedSize: expectedSize,
                                                  actualSize: written)
            }
            #if DEBUG
            if let fault, fault.operation == .stall { sleep(UInt32(clamping: fault.offset)) }
            #endif
            do throws(StorageError) {
                try relinkIfRemovedLocked()
            } catch {
                closeAndRemoveLocked()
                throw error
            }
            if let code = fsync(fd) != 0 ? errno : injectedError(at: .fsync) {
                closeAndRemoveLocked()
                throw StorageError.fromErrno(code, call: "fsync", path: temporaryPath)
            }
            let outcome: CommitOutcome
            do throws(StorageError) {
                if let code = injectedError(at: .link) {
                    throw StorageError.fromErrno(code, call: "link", path: store.path(for: digest, visibility: visibility))
                }
                outcome = try store.publish(temporaryPath: temporaryPath, digest: digest, visibility: visibility)
            } catch {
                closeAndRemoveLocked()
                throw error
            }
            closeAndRemoveLocked()  // The published name is a second link; drop the temp one.
            return outcome
        }
    }

    func abort() {
        lock.withLock { if !closed { closeAndRemoveLocked() } }
    }

    /// When the temp file lost its name (`.tmp/` removed by hand while the body streamed), copies its bytes, already
    /// verified, into a new temp file and goes on with that one: the upload still publishes instead of failing after
    /// its whole body. Must hold `lock`; blocking disk work (it runs in `commit`, on a worker).
    private func relinkIfRemovedLocked() throws(StorageError) {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw StorageError.fromErrno(errno, call: "fstat", path: temporaryPath) }
        guard info.st_nlink == 0 else { return }
        let (copy, path) = try store.createTemporaryFile(prefix: digest.hex.prefix(16))
        if let code = Posix.copyContents(from: fd, to: copy, count: written) {
            unlink(path)
            close(copy)
            throw StorageError.fromErrno(code, call: "copy", path: path)
        }
        close(fd)  // Its name is gone already; closing frees the old copy's blocks.
        fd = copy
        temporaryPath = path
    }

    /// Test builds: the errno planned for this upload's `fsync` or `link`; nil (always, in release builds) to run it.
    private func injectedError(at step: CommitStep) -> Int32? {
        #if DEBUG
        if let fault, fault.operation.rawValue == step.rawValue { return fault.code }
        #endif
        return nil
    }

    /// The steps of `commit` a test build can fail on purpose.
    private enum CommitStep: String {
        case fsync, link
    }

    /// Removes and closes the temp file; must hold `lock`. The name goes before the lock (released by `close`), so
    /// a sweep never finds a `.upload` name unlocked while this upload lives.
    private func closeAndRemoveLocked() {
        guard !closed else { return }
        closed = true
        unlink(temporaryPath)
        close(fd)
    }
}

extension FileSystemUpload: ReadableUpload {
    func openReader() throws(StorageError) -> Int32 {
        try lock.withLock { () throws(StorageError) -> Int32 in
            guard !closed else { throw StorageError.uploadClosed(digest) }
            let copy = dup(fd)
            guard copy >= 0 else { throw StorageError.fromErrno(errno, call: "dup", path: temporaryPath) }
            return copy
        }
    }
}
