import Shared

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FileSystemBlobStore {
    /// Makes a blob folder (e.g. `root/public/sha512`) again when it is missing, as an operator's clean-up or a
    /// restore may leave it while the server runs; true when it made one. Each folder made is fsynced into its
    /// parent, so a blob linked into it next survives a crash. The folder descriptors are then pointed at it.
    func recreateFolder(_ visibility: Visibility, algorithm: HashAlgorithm) throws(StorageError) -> Bool {
        let made = try Disk.makeDirectoriesDurably(directory(for: visibility, algorithm: algorithm))
        if made { refreshFolders() }
        return made
    }

    /// Points each folder descriptor (see `openForReading`) at the folder now at its path when that is another one
    /// (removed and made again, or replaced by a rename); true when one changed. A missing folder changes nothing:
    /// lookups through the old descriptor then find nothing, which is the truth.
    ///
    /// `dup2` swaps what a descriptor number refers to in one step, so a lookup on another thread uses the old
    /// folder or the new one, never a closed or reused number.
    @discardableResult
    public func refreshFolders() -> Bool {
        var changed = false
        for (visibility, descriptor) in [(Visibility.internal, internalDirectory), (.public, publicDirectory)] {
            let path = directory(for: visibility, algorithm: .sha512)
            var now = stat(), held = stat()
            guard stat(path, &now) == 0, fstat(descriptor, &held) == 0 else { continue }
            guard now.st_dev != held.st_dev || now.st_ino != held.st_ino else { continue }
            let fresh = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fresh >= 0 else { continue }
            // dup2 clears close-on-exec (dup3, which keeps it, is not in Swift's Glibc); the server never execs.
            let swapped = dup2(fresh, descriptor) >= 0
            _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
            close(fresh)
            changed = changed || swapped
        }
        return changed
    }
}
