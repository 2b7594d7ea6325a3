import Shared

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FileSystemBlobStore {
    /// The ending of an upload's temp file once it holds its lock: the sweep removes such a file as soon as its lock
    /// is free, whatever its age.
    static let uploadSuffix = ".upload"
    /// The ending of a temp file between its creation and its lock (a few microseconds); swept only when old.
    static let unlockedSuffix = ".new"

    /// Creates an upload's temp file, `.tmp/<prefix>-<random>.upload`, holding an exclusive `flock` from before that
    /// name exists; returns its open descriptor (read-write, mode 0644) and path.
    ///
    /// The file is made as `<name>.new` (O_CREAT|O_EXCL), locked, then renamed to `<name>.upload`: a `.upload` name
    /// therefore always names a locked file while its writer lives, and the sweep of any process may remove one whose
    /// lock it can take. A missing `.tmp/` (removed by hand while serving) is created again.
    func createTemporaryFile(prefix: Substring) throws(StorageError) -> (fd: Int32, path: String) {
        var attempt = 0
        while true {
            attempt += 1
            let base = "\(temporaryDirectory)/\(prefix)-\(Hex.encode(Crypto.randomBytes(12)))"
            let unlocked = base + Self.unlockedSuffix, path = base + Self.uploadSuffix
            let fd = open(unlocked, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd < 0 {
                let code = errno
                guard attempt < 5, code == EEXIST || code == ENOENT else {
                    throw StorageError.fromErrno(code, call: "open", path: unlocked)
                }
                if code == ENOENT { try Disk.makeDirectories(temporaryDirectory) }
                continue
            }
            // Mode 0644 whatever the umask, so a static server mirroring public/ can read the published blob.
            var failure: (call: String, code: Int32)?
            if fchmod(fd, 0o644) != 0 {
                failure = ("fchmod", errno)
            } else if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                failure = ("flock", errno)
            } else if rename(unlocked, path) != 0 {
                failure = ("rename", errno)
            }
            guard let failure else { return (fd, path) }
            unlink(unlocked)
            close(fd)
            // ENOENT at the rename: `.tmp/` went away in between; the next round makes it again.
            guard failure.call == "rename", failure.code == ENOENT, attempt < 5 else {
                throw StorageError.fromErrno(failure.code, call: failure.call, path: unlocked)
            }
        }
    }

    /// Throws `.insufficientSpace` when the filesystem of `fd` has fewer than `bytes` bytes free for an unprivileged
    /// writer (`f_bavail`: the blocks a filesystem keeps for root are not counted). Checked when an upload begins, so
    /// a body that cannot fit is refused before it is read; uploads running at the same time are not counted, so
    /// one of them can still fill the disk and get its 507 after the body.
    func checkRoom(fd: Int32, path: String, bytes: Int64) throws(StorageError) {
        var info = statvfs()
        guard fstatvfs(fd, &info) == 0 else { throw StorageError.fromErrno(errno, call: "fstatvfs", path: path) }
        let (product, overflow) = UInt64(info.f_bavail).multipliedReportingOverflow(by: UInt64(info.f_frsize))
        let available = overflow ? Int64.max : Int64(clamping: product)
        if available < bytes {
            throw StorageError.insufficientSpace(path: temporaryDirectory, needed: bytes, available: available)
        }
    }
}
