import Shared
import Synchronization

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
/// `commit` on a worker). Every call takes the `state` mutex, which gives the hand-off its happens-before edge; it
/// is never contended in that use, so it costs a few nanoseconds per `write`.
///
/// Speed: uploads of `pipelineThreshold` bytes or more are hashed on a second core (`HashPipeline`) while the
/// caller writes, and every `writebackInterval` bytes their dirty pages are handed to the disk without waiting
/// (`POSIX_FADV_DONTNEED`, which also drops pages already written), so the `fsync` in `commit` has little left.
final class FileSystemUpload: BlobUpload {
    /// Uploads at least this large hash on a second core (and hand dirty pages to the disk as they go).
    static let pipelineThreshold = HashPipeline.threadedThreshold
    /// Dirty pages of a large upload are handed to the disk every this many bytes.
    static let writebackInterval: Int64 = 16 * 1024 * 1024

    let digest: Digest
    let visibility: Visibility
    let expectedSize: Int64
    private let store: FileSystemBlobStore
    private let hasher: HashPipeline
    /// The temp file and how far it got; every call takes this lock.
    private let state: Mutex<State>

    private struct State {
        var fd: Int32
        /// Path of the temp file (a new one when `.tmp/` was removed under this upload, see `relinkIfRemoved`).
        var temporaryPath: String
        var written: Int64 = 0
        var writebackStart: Int64 = 0
        var closed = false
    }
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
        let (fd, temporaryPath) = try store.createTemporaryFile(prefix: digest.hex.prefix(16))
        do {
            try store.checkRoom(fd: fd, path: temporaryPath, bytes: expectedSize)
        } catch {
            unlink(temporaryPath)
            close(fd)
            throw error
        }
        state = Mutex(State(fd: fd, temporaryPath: temporaryPath))
    }

    deinit {
        // A writer dropped without commit or abort (a connection torn down) must not leave its temp file behind.
        state.withLock { state in
            if !state.closed {
                unlink(state.temporaryPath)
                close(state.fd)
            }
        }
    }

    var bytesWritten: Int64 { state.withLock { $0.written } }

    func write(_ bytes: UnsafeRawBufferPointer) throws(StorageError) {
        try state.withLock { (s) throws(StorageError) in
            guard !s.closed else { throw StorageError.uploadClosed(digest) }
            guard s.written + Int64(bytes.count) <= expectedSize else {
                let got = s.written + Int64(bytes.count)
                Self.closeAndRemove(&s)
                throw StorageError.tooLarge(expectedSize: expectedSize, got: got)
            }
            guard !bytes.isEmpty else { return }
            #if DEBUG
            if let fault, fault.operation == .write, s.written + Int64(bytes.count) > fault.offset {
                // up to the offset, as a real failure might
                let head = UnsafeRawBufferPointer(rebasing: bytes[..<max(0, Int(fault.offset - s.written))])
                try? Disk.writeAll(s.fd, head, path: s.temporaryPath)
                Self.closeAndRemove(&s)
                throw StorageError.fromErrno(fault.code, call: "write", path: s.temporaryPath)
            }
            #endif
            do throws(StorageError) {
                try Disk.writeAll(s.fd, bytes, path: s.temporaryPath)
            } catch {
                Self.closeAndRemove(&s)
                throw error
            }
            hasher.update(bytes)
            s.written += Int64(bytes.count)
            if s.written - s.writebackStart >= Self.writebackInterval && expectedSize >= Self.pipelineThreshold {
                // Best effort: the fsync in `commit` is what makes the bytes durable.
                _ = posix_fadvise(
                    s.fd, off_t(s.writebackStart), off_t(s.written - s.writebackStart), POSIX_FADV_DONTNEED)
                s.writebackStart = s.written
            }
        }
    }

    func commit() throws(StorageError) -> CommitOutcome {
        try state.withLock { (s) throws(StorageError) -> CommitOutcome in
            guard !s.closed else { throw StorageError.uploadClosed(digest) }
            let actual = hasher.finish()
            guard actual == digest, s.written == expectedSize else {
                Self.closeAndRemove(&s)
                throw StorageError.digestMismatch(
                    expected: digest, actual: actual, expectedSize: expectedSize,
                    actualSize: s.written)
            }
            #if DEBUG
            if let fault, fault.operation == .stall { sleep(UInt32(clamping: fault.offset)) }
            #endif
            do throws(StorageError) {
                try relinkIfRemoved(&s)
            } catch {
                Self.closeAndRemove(&s)
                throw error
            }
            if let code = fsync(s.fd) != 0 ? errno : injectedError(at: .fsync) {
                Self.closeAndRemove(&s)
                throw StorageError.fromErrno(code, call: "fsync", path: s.temporaryPath)
            }
            let outcome: CommitOutcome
            do throws(StorageError) {
                if let code = injectedError(at: .link) {
                    throw StorageError.fromErrno(
                        code, call: "link", path: store.path(for: digest, visibility: visibility))
                }
                outcome = try store.publish(temporaryPath: s.temporaryPath, digest: digest, visibility: visibility)
            } catch {
                Self.closeAndRemove(&s)
                throw error
            }
            Self.closeAndRemove(&s)  // The published name is a second link; drop the temp one.
            return outcome
        }
    }

    func abort() {
        state.withLock { s in if !s.closed { Self.closeAndRemove(&s) } }
    }

    /// When the temp file lost its name (`.tmp/` removed by hand while the body streamed), copies its bytes, already
    /// verified, into a new temp file and goes on with that one: the upload still publishes instead of failing after
    /// its whole body. Under `state`'s lock; blocking disk work (it runs in `commit`, on a worker).
    private func relinkIfRemoved(_ s: inout State) throws(StorageError) {
        var info = stat()
        guard fstat(s.fd, &info) == 0 else { throw StorageError.fromErrno(errno, call: "fstat", path: s.temporaryPath) }
        guard info.st_nlink == 0 else { return }
        let (copy, path) = try store.createTemporaryFile(prefix: digest.hex.prefix(16))
        do throws(StorageError) {
            try Disk.copyContents(from: s.fd, to: copy, count: s.written, path: path)
        } catch {
            unlink(path)
            close(copy)
            throw error
        }
        close(s.fd)  // Its name is gone already; closing frees the old copy's blocks.
        s.fd = copy
        s.temporaryPath = path
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

    /// Removes and closes the temp file; under `state`'s lock. The name goes before the file's lock (released by
    /// `close`), so a sweep never finds a `.upload` name unlocked while this upload lives.
    private static func closeAndRemove(_ s: inout State) {
        guard !s.closed else { return }
        s.closed = true
        unlink(s.temporaryPath)
        close(s.fd)
    }
}

extension FileSystemUpload: ReadableUpload {
    func openReader() throws(StorageError) -> Int32 {
        try state.withLock { (s) throws(StorageError) -> Int32 in
            guard !s.closed else { throw StorageError.uploadClosed(digest) }
            let copy = dup(s.fd)
            guard copy >= 0 else { throw StorageError.fromErrno(errno, call: "dup", path: s.temporaryPath) }
            return copy
        }
    }
}
