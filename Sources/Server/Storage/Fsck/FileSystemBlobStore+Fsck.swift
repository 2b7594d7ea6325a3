import Shared
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FileSystemBlobStore {
    /// Re-hashes every blob in `public/` and `pvt/` against its name, streaming through each folder.
    ///
    /// Reports corrupt blobs (content does not match the name) and stray files (a name that is not a digest, not a
    /// regular file, or a digest present in both folders: the `public/` copy is the stray, so a dispute never makes
    /// a blob more visible). With `repair`, moves them into `quarantine/` (never deletes). With an `index`, adds
    /// verified blobs that have no record (hand-copied ones) and corrects records that disagree with the folders,
    /// which are the truth, including records of blobs that are in neither folder any more. Blocking and long: an admin command, not a request.
    public func check(index: (any MetadataIndex)?, repair: Bool) throws -> FsckReport {
        var report = FsckReport()
        for visibility in [Visibility.public, .internal] {
            let directory = directory(for: visibility, algorithm: .sha512)
            guard let stream = try DirectoryStream(path: directory) else { continue }
            while let name = try stream.next() {
                let path = "\(directory)/\(name)"
                guard let info = try Posix.lstatIfExists(path) else { continue }  // moved meanwhile
                func finding(_ reason: String) throws(StorageError) -> FsckReport.Finding {
                    let moved = repair ? try quarantine(path, folder: visibility.folderName, name: name) : nil
                    return FsckReport.Finding(path: path, reason: reason, quarantinedTo: moved)
                }
                guard Posix.isRegular(info) else {
                    report.stray.append(try finding("expected a regular file, found another kind (mode \(String(info.st_mode, radix: 8)))"))
                    continue
                }
                let digest: Digest
                do { digest = try Digest(parsing: name) } catch {
                    report.stray.append(try finding("expected a sha512 digest as the name: \(error)"))
                    continue
                }
                if visibility == .public,
                   try Posix.lstatIfExists(self.path(for: digest, visibility: .internal)) != nil {
                    report.stray.append(try finding("also stored in pvt/; the pvt/ copy is kept"))
                    continue
                }
                let computed: FileDigest
                do { computed = try FileDigest.compute(path: path) } catch {
                    if case .io(_, let code) = error { throw StorageError.io(call: "read", path: path, errno: code) }
                    throw error
                }
                guard computed.digest == digest else {
                    report.corrupt.append(try finding("expected content with digest \(digest.hex), got \(computed.digest.hex)"))
                    continue
                }
                report.verified += 1
                guard let index else { continue }
                let record = try index.file(digest)
                if record == nil || record?.visibility != visibility || record?.hasInstances != true
                    || record?.size != computed.size {
                    try index.recordStored(digest, size: computed.size, visibility: visibility)
                    if record == nil { report.indexed.append(digest) } else { report.reconciled.append(digest) }
                }
            }
        }
        if let index {
            // The other direction: records that say stored while neither folder has the blob (removed by hand).
            var after = ""
            while true {
                let page = try index.storedFiles(after: after, limit: 1000)
                for record in page where try locate(record.digest) == nil {
                    try index.markInstancesGone(record.digest)
                    report.reconciled.append(record.digest)
                }
                guard let last = page.last else { break }
                after = last.digest.hex
            }
        }
        return report
    }

    /// Moves a bad file into `quarantine/` under a name that says where it came from; returns the new path.
    private func quarantine(_ path: String, folder: String, name: String) throws(StorageError) -> String {
        try Posix.makeDirectories(quarantineDirectory)
        let target = "\(quarantineDirectory)/\(folder)-sha512-\(name)-\(Timestamp.now())-\(Hex.encode(Crypto.randomBytes(4)))"
        // Under the digest's lock (when the name is one) so a concurrent publish or move of it does not interleave.
        func move() throws(StorageError) {
            if rename(path, target) != 0 { throw StorageError.fromErrno(errno, call: "rename", path: path) }
        }
        if let digest = try? Digest(parsing: name) {
            try locks.withLock(for: digest, move)
        } else {
            try move()
        }
        try Posix.fsyncDirectory(quarantineDirectory)
        return target
    }
}
