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
    /// name exists; returns its open descriptor (write-only, mode 0644) and path.
    ///
    /// The file is made as `<name>.new` (O_CREAT|O_EXCL), locked, then renamed to `<name>.upload`: a `.upload` name
    /// therefore always names a locked file while its writer lives, and the sweep of any process may remove one whose
    /// lock it can take.
    func createTemporaryFile(prefix: Substring) throws(StorageError) -> (fd: Int32, path: String) {
        var attempt = 0
        while true {
            attempt += 1
            let base = "\(temporaryDirectory)/\(prefix)-\(Hex.encode(Crypto.randomBytes(12)))"
            let unlocked = base + Self.unlockedSuffix, path = base + Self.uploadSuffix
            let fd = open(unlocked, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd < 0 {
                let code = errno
                guard attempt < 5, code == EEXIST else { throw StorageError.fromErrno(code, call: "open", path: unlocked) }
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
            throw StorageError.fromErrno(failure.code, call: failure.call, path: unlocked)
        }
    }
}
