import Shared

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FileSystemBlobStore {
    /// Removes temp files of uploads that nobody is writing any more; returns how many it removed.
    ///
    /// Looks only in `.tmp/`, never at the blobs, so its cost does not grow with the store. A live upload holds an
    /// exclusive `flock` on its temp file from before the file gets its `.upload` name (see `createTemporaryFile`)
    /// until after that name is gone, and the kernel releases the lock when the writer's process dies. So a
    /// `.upload` file whose lock this sweep can take is removed at once, whatever its age. `flock` locks belong to an
    /// open file description, not to a process, so the sweep's own `open` conflicts with the uploads of its own
    /// process as with those of another server sharing the root. Any other regular file (a `.new` file, caught
    /// between its creation and its lock, or left by a crash in that instant; a heartbeat probe) is removed only when
    /// its lock is free and it was last written more than `temporaryFileGracePeriod` seconds ago.
    ///
    /// Safe with other live servers on the same root, with pid reuse and across containers, as long as the root is a
    /// local filesystem (over NFS, `flock` is emulated with per-process `fcntl` locks). A missing `.tmp/` is nothing
    /// to sweep.
    @discardableResult
    public func sweepTemporaryFiles() throws(StorageError) -> Int {
        var removed = 0
        let cutoff = Int64(time(nil)) - temporaryFileGracePeriod
        try Disk.forEachEntry(in: temporaryDirectory) { (name: String) throws(StorageError) in
            let path = "\(temporaryDirectory)/\(name)"
            guard let info = try Disk.lstatIfExists(path), Disk.isRegular(info) else {
                // Gone already, or not ours (a folder or link dropped here by hand): only regular files are removed.
                return
            }
            guard name.hasSuffix(Self.uploadSuffix) || Int64(info.st_mtim.tv_sec) < cutoff else { return }
            let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
            guard fd >= 0 else { return }
            defer { close(fd) }
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return }
            // Temp names are never reused, so the name still names the file whose lock was just taken.
            if try Disk.unlinkIfExists(path) { removed += 1 }
        }
        return removed
    }
}
