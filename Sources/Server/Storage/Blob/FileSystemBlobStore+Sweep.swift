import Shared
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FileSystemBlobStore {
    /// Removes temp files of uploads that nobody is writing any more; returns how many it removed.
    ///
    /// Looks only in `.tmp/`, never at the blobs, so start-up cost does not grow with the store. A live upload holds
    /// an exclusive `flock` on its temp file (released by the kernel when its process dies), so a file is removed only
    /// when that lock can be taken *and* it was last written more than `temporaryFileGracePeriod` seconds ago (which
    /// covers the instant between a writer's `open` and its `flock`). This is safe with other live servers on the same
    /// root, with pid reuse and across containers, as long as the root is a local filesystem (flock over NFS is not
    /// reliable).
    @discardableResult
    public func sweepTemporaryFiles() throws(StorageError) -> Int {
        var removed = 0
        let cutoff = Int64(time(nil)) - temporaryFileGracePeriod
        try Posix.forEachEntry(in: temporaryDirectory) { (name: String) throws(StorageError) in
            let path = "\(temporaryDirectory)/\(name)"
            guard let info = try Posix.lstatIfExists(path), Int64(info.st_mtim.tv_sec) < cutoff else { return }
            guard Posix.isRegular(info) else {
                // Not ours (a folder or link dropped here by hand); removing only regular files keeps this simple.
                return
            }
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { return }
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return }
            if try Posix.unlinkIfExists(path) { removed += 1 }
        }
        return removed
    }
}
