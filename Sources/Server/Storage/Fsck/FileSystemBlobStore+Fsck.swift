import Shared

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FileSystemBlobStore {
    public func forEachEntry(_ visibility: Visibility, _ body: (StoreEntry) throws -> Void) throws {
        let directory = directory(for: visibility, algorithm: .sha512)
        guard let stream = try Disk.directoryStream(directory) else { return }
        while let name = try Disk.next(stream) {
            let path = "\(directory)/\(name)"
            guard let info = try Disk.lstatIfExists(path) else { continue }  // moved meanwhile
            let notABlob =
                Disk.isRegular(info)
                ? nil : "expected a regular file, found another kind (mode \(String(info.st_mode, radix: 8)))"
            try body(StoreEntry(name: name, location: path, visibility: visibility, notABlob: notABlob))
        }
    }

    public func rehash(_ entry: StoreEntry) throws(StorageError) -> FileDigest {
        do { return try FileDigest.compute(path: entry.location) } catch {
            if case .io(_, let code) = error { throw StorageError.io(call: "read", path: entry.location, errno: code) }
            throw StorageError.io(call: "read", path: entry.location, errno: EIO)
        }
    }

    /// Moves a bad file into `quarantine/` under a name that says where it came from; returns the new path.
    public func quarantine(_ entry: StoreEntry) throws(StorageError) -> String {
        try Disk.makeDirectories(quarantineDirectory)
        let target =
            "\(quarantineDirectory)/\(entry.visibility.folderName)-sha512-\(entry.name)-\(WallClock.now())-"
            + Hex.encode(Crypto.randomBytes(4))
        // Under the digest's lock (when the name is one) so a concurrent publish or move of it does not interleave.
        func move() throws(StorageError) {
            if rename(entry.location, target) != 0 {
                throw StorageError.fromErrno(errno, call: "rename", path: entry.location)
            }
        }
        if let digest = try? Digest(parsing: entry.name) {
            try locks.withLock(for: digest, move)
        } else {
            try move()
        }
        try Disk.fsyncDirectory(quarantineDirectory)
        return target
    }
}
