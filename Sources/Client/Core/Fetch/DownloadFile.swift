import Shared

#if canImport(Glibc)
import Glibc
#endif

/// A download in progress: a temp file in the target's folder, fed and hashed as bytes arrive.
///
/// The temp file has no name at all where the filesystem allows (`O_TMPFILE`: ext4, XFS, Btrfs, tmpfs): nothing
/// is visible until `commit` links the verified file under its final name, and a killed process leaves nothing
/// behind. Elsewhere it is a named temp file beside the target (`FileSystem.temporaryPath`), held locked while it
/// is written and renamed onto the target. Keeps its bytes across attempts so a retry can resume with `Range`;
/// `responseStarted` decides per answer whether to append (206 with the matching `Content-Range`) or start over
/// (200). Used by one thread at a time.
final class DownloadFile: ResponseSink {
    /// The record being fetched.
    let record: ManifestRecord
    /// The named temp file's path, or a description of the unnamed one (for messages).
    var path: String { temporaryPath ?? "an unnamed temp file for \(target)" }
    /// True when the temp file is unnamed (`O_TMPFILE`).
    var isUnnamed: Bool { temporaryPath == nil }
    /// Where the file goes.
    private let target: String
    /// The named temp file's path; nil for an unnamed one.
    private let temporaryPath: String?
    /// Called with the bytes of this file on disk so far.
    var onProgress: ((Int64) -> Void)?

    private let fd: Int32
    private var hasher: StreamingHasher
    /// Bytes on disk (all hashed).
    private(set) var written: Int64 = 0
    /// The range start asked for in the current attempt.
    var requestedStart: Int64 = 0
    /// The current answer's status.
    private(set) var status = 0
    /// The current answer's headers.
    private(set) var response: HTTPResponse?
    /// The start of an error answer's body, for the log.
    private(set) var errorBody: [UInt8] = []
    /// Why the sink refused the answer, when it did.
    private(set) var abortReason: String?
    /// True when the abort means the server sends wrong data (go to the next server), not a passing glitch.
    private(set) var abortIsMismatch = false

    /// Creates the temp file in `target`'s folder: unnamed when the filesystem can, else named beside `target`.
    init(record: ManifestRecord, target: String) throws(ClientError) {
        self.record = record
        hasher = StreamingHasher(algorithm: record.algorithm)
        self.target = target
        let unnamed = UnnamedFile.create(in: FileSystem.directory(of: target))
        if unnamed >= 0 {
            fd = unnamed
            temporaryPath = nil
            return
        }
        let path = FileSystem.temporaryPath(beside: target)
        temporaryPath = path
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileSystem.error("cannot create", path) }
        // Held until the process ends: tells `removeAbandonedTemporaryFiles` that someone still writes this file.
        _ = flock(fd, LOCK_EX | LOCK_NB)
    }

    /// True once `commit` renamed the file away: nothing is left to remove.
    private var committed = false

    deinit {
        close(fd)
        if !committed && !isUnnamed { unlink(path) }
    }

    /// Drops every byte so the next attempt starts over.
    func reset() {
        _ = ftruncate(fd, 0)
        _ = lseek(fd, 0, SEEK_SET)
        hasher = StreamingHasher(algorithm: record.algorithm)
        written = 0
        onProgress?(0)
    }

    /// Prepares for a new attempt.
    func beginAttempt() {
        status = 0
        response = nil
        errorBody.removeAll()
        abortReason = nil
        abortIsMismatch = false
        requestedStart = written
    }

    func responseStarted(_ response: HTTPResponse) -> Bool {
        self.response = response
        status = response.status
        let length = response.header("Content-Length").flatMap { Int64($0.trimmingWhitespace()) }
        switch status {
        case 200:
            if written > 0 { reset() }
            if let length, let size = record.size, length != size {
                return refuse("server announced \(length) bytes, expected \(size)", mismatch: true)
            }
        case 206:
            let range = response.header("Content-Range")?.trimmingWhitespace() ?? ""
            guard let size = record.size else {
                // No size in the manifest: the range must start where we stopped; the digest checks the rest.
                guard requestedStart > 0, range.hasPrefix("bytes \(requestedStart)-") else {
                    reset()
                    return refuse(
                        "206 with Content-Range \(range.debugDescription), expected \"bytes \(requestedStart)-...\"",
                        mismatch: false)
                }
                return true
            }
            let expected = "bytes \(requestedStart)-\(size - 1)/"
            let total = range.hasPrefix(expected) ? String(range.dropFirst(expected.count)) : nil
            guard requestedStart > 0, let total, total == "*" || total == String(size) else {
                reset()
                return refuse(
                    "206 with Content-Range \(range.debugDescription), expected \"\(expected)\(size)\"",
                    mismatch: false)
            }
            if let length, length != size - requestedStart {
                reset()
                return refuse("206 announced \(length) bytes, expected \(size - requestedStart)", mismatch: false)
            }
        default:
            break
        }
        return true
    }

    func received(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard status == 200 || status == 206 else {
            if errorBody.count < 4096 { errorBody.append(contentsOf: bytes.prefix(4096 - errorBody.count)) }
            return true
        }
        if let size = record.size, written + Int64(bytes.count) > size {
            return refuse("server sent more than the expected \(size) bytes", mismatch: true)
        }
        do {
            try FileSystem.writeAll(fd, bytes, path: path)
        } catch {
            return refuse(error.message, mismatch: false)
        }
        hasher.update(bytes)
        written += Int64(bytes.count)
        onProgress?(written)
        return true
    }

    /// After a complete 2xx answer: success when the size (when the record has one) and digest match, else why not.
    func finish() -> Result<Void, ClientError> {
        if let size = record.size, written != size {
            return .failure(ClientError(.verification, "got \(written) bytes, expected \(size)"))
        }
        let digest = hasher.finish()
        hasher = StreamingHasher(algorithm: record.algorithm)
        guard digest == record.digest else {
            return .failure(
                ClientError(
                    .verification,
                    "digest is \(digest.hex.prefix(16))..., expected \(record.digest.hex.prefix(16))..."))
        }
        return .success(())
    }

    /// Puts the verified file at `target`, replacing what is there. An unnamed file is linked there with one
    /// `linkat` when `target` is free, else linked under a temp name and renamed onto it; a named one is renamed.
    func commit(to target: String) throws(ClientError) {
        guard isUnnamed else {
            try FileSystem.rename(path, to: target)
            committed = true
            return
        }
        let code = UnnamedFile.link(fd, at: AT_FDCWD, target)
        if code == 0 { return }
        guard code == EEXIST else { throw FileSystem.error("cannot link \(path) at", target, errno: code) }
        let temporary = FileSystem.temporaryPath(beside: target)
        let linked = UnnamedFile.link(fd, at: AT_FDCWD, temporary)
        guard linked == 0 else { throw FileSystem.error("cannot link \(path) at", temporary, errno: linked) }
        do {
            try FileSystem.rename(temporary, to: target)
        } catch {
            FileSystem.removeFile(temporary)
            throw error
        }
    }

    /// Links the (committed, verified) file as entry `name` of the open folder `directory`; 0 or the `errno`.
    /// Only an unnamed file can: a named one answers `ENOTSUP`, and the caller links its path instead.
    func link(into directory: Int32, as name: String) -> Int32 {
        isUnnamed ? UnnamedFile.link(fd, at: directory, name) : ENOTSUP
    }

    /// `fstat` of the file (after `link`: its state as the cache entry now has it).
    func fileStatus() -> stat? {
        var info = stat()
        return fstat(fd, &info) == 0 ? info : nil
    }

    private func refuse(_ reason: String, mismatch: Bool) -> Bool {
        abortReason = reason
        abortIsMismatch = mismatch
        return false
    }
}
