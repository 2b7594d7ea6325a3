#if canImport(Glibc)
import Glibc
#endif

extension FileSystem {
    /// Removes the temp files a killed `tooltool` left in `folder` (`.NAME.PID.RANDOM.tmp`, see `temporaryPath`):
    /// those whose process is gone and that nobody holds locked. Returns how many it removed.
    ///
    /// A download holds an exclusive `flock` on its temp file while it writes, and the kernel drops it with the
    /// process; the PID check keeps this from touching a file in the instant between another process's `open` and
    /// its `flock`.
    @discardableResult
    public static func removeAbandonedTemporaryFiles(in folder: String) -> Int {
        guard let names = try? list(folder) else { return 0 }
        var removed = 0
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            let parts = name.dropLast(4).split(separator: ".")
            guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]), pid > 0, pid != getpid() else { continue }
            guard kill(pid, 0) != 0, errno == ESRCH else { continue }
            let path = join(folder, name)
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { continue }
            if unlink(path) == 0 { removed += 1 }
        }
        return removed
    }
}
