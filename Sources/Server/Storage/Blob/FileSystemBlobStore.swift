import Shared

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Blobs as plain files: `root/public/sha512/<hex>` and `root/pvt/sha512/<hex>`.
///
/// The two folders are the truth about which blobs exist and their visibility, so a static server or rsync can
/// mirror `public/` as it is. Uploads stream into `root/.tmp/` (same filesystem) and are published with `link`,
/// so a torn file is never visible and a different file is never overwritten. fsck moves bad files to
/// `root/quarantine/`.
///
/// Thread safety: every method may be called from any thread. Publishing, visibility changes and deletes of one
/// digest are serialised by a per-digest (striped) lock within this process; another process on the same root
/// (the `visibility` admin command) is not covered by that lock.
public final class FileSystemBlobStore: BlobStore {
    /// The store's root folder.
    public let root: String
    /// Folder of in-flight uploads.
    public let temporaryDirectory: String
    /// Folder that fsck --repair moves bad files into.
    public let quarantineDirectory: String
    /// Temp files other than an upload's locked `.upload` file (a `.new` file, a heartbeat probe) younger than this
    /// are never swept, whatever their lock says (see `sweepTemporaryFiles`).
    public let temporaryFileGracePeriod: Int64
    let locks = StripedLock()
    /// The folder syncs that uploads finishing together share.
    let folderSyncs = FolderSyncs()
    /// Open descriptors of `pvt/sha512` and `public/sha512`: reads open blobs relative to them, so the kernel walks
    /// one path component per lookup instead of the whole root path (a third of a small GET's `open` time). The numbers
    /// never change; when a folder is replaced behind the server's back, `refreshFolders` points them at the new one.
    let internalDirectory: Int32, publicDirectory: Int32

    #if DEBUG
    /// Test builds: failures planned for the next uploads, from `TOOLTOOL_TEST_STORAGE_FAULTS` (see `StorageFaults`).
    public let faults: StorageFaults?
    #endif

    /// Opens (creating when missing) a store under `root`. Does not scan the store: cost does not grow with it.
    public init(root: String, temporaryFileGracePeriod: Int64 = 600) throws(StorageError) {
        #if DEBUG
        faults = try StorageFaults.fromEnvironment()
        #endif
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        self.temporaryDirectory = self.root + "/.tmp"
        self.quarantineDirectory = self.root + "/quarantine"
        self.temporaryFileGracePeriod = temporaryFileGracePeriod
        for visibility in Visibility.allCases {
            try Disk.makeDirectories("\(self.root)/\(visibility.folderName)/\(HashAlgorithm.sha512.rawValue)")
        }
        try Disk.makeDirectories(temporaryDirectory)
        // Nothing may throw once both descriptors are stored: `deinit` would then close them a second time.
        var descriptors: [Int32] = []
        for visibility in [Visibility.internal, .public] {
            let path = "\(self.root)/\(visibility.folderName)/\(HashAlgorithm.sha512.rawValue)"
            let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else {
                let code = errno
                descriptors.forEach { close($0) }
                throw StorageError.fromErrno(code, call: "open", path: path)
            }
            descriptors.append(fd)
        }
        internalDirectory = descriptors[0]
        publicDirectory = descriptors[1]
    }

    deinit {
        close(internalDirectory)
        close(publicDirectory)
    }

    /// The folder holding blobs of one visibility and algorithm, e.g. `root/pvt/sha512`.
    public func directory(for visibility: Visibility, algorithm: HashAlgorithm) -> String {
        "\(root)/\(visibility.folderName)/\(algorithm.rawValue)"
    }

    /// The final path of a blob with the given visibility.
    public func path(for digest: Digest, visibility: Visibility) -> String {
        "\(directory(for: visibility, algorithm: digest.algorithm))/\(digest.hex)"
    }

    public func locate(_ digest: Digest) throws(StorageError) -> Visibility? {
        // pvt/ first: a blob left in both folders counts as internal, as fsck settles it, so a dispute never makes a
        // blob more visible. Retried because a concurrent move can slip between the two lookups.
        for _ in 0..<3 {
            for visibility in Self.lookupOrder {
                if try Disk.lstatIfExists(path(for: digest, visibility: visibility)) != nil { return visibility }
            }
        }
        return nil
    }

    public var location: String { root }

    /// Reads open local files: cheap enough for an event loop.
    public var isLocal: Bool { true }

    /// Opens the blob's file (`known` is not needed: a failed probe costs less than an index lookup).
    public func openForReading(_ digest: Digest, known: StoredBlob?) throws(StorageError) -> OpenBlob? {
        if let blob = try lookUp(digest) { return blob }
        // A miss: a folder removed and made again (or restored) since the descriptors were opened would hide every
        // blob put into the new one, so check them (four stats, on misses only) and look again if one moved.
        return refreshFolders() ? try lookUp(digest) : nil
    }

    /// `openForReading` through the folder descriptors as they are.
    private func lookUp(_ digest: Digest) throws(StorageError) -> OpenBlob? {
        for _ in 0..<3 {
            for visibility in Self.lookupOrder {
                let directory = visibility == .internal ? internalDirectory : publicDirectory
                // Most blobs are public, so the pvt/ lookup usually fails: probed with fstatat, because a failing
                // openat still allocates and frees an open file (1.0 against 0.5 us here). The probe's stat stands
                // in for an fstat after the open: whatever is at a blob's name holds that digest's bytes (uploads
                // link(2) a verified file, visibility switches rename the same blob), so it has the same size; a
                // blob moved in between is found by the next round. O_NONBLOCK: a FIFO put at a name by hand must
                // not block the loop in openat (it then fails the regular-file check).
                var info = stat()
                if visibility == .internal {
                    if fstatat(directory, digest.hex, &info, AT_SYMLINK_NOFOLLOW) != 0 {
                        if errno == ENOENT { continue }
                        throw StorageError.fromErrno(
                            errno, call: "stat", path: path(for: digest, visibility: visibility))
                    }
                    guard Disk.isRegular(info) else {
                        throw StorageError.io(
                            call: "stat", path: path(for: digest, visibility: visibility), errno: EISDIR)
                    }
                }
                let fd = openat(directory, digest.hex, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
                if fd < 0 {
                    if errno == ENOENT { continue }
                    throw StorageError.fromErrno(errno, call: "open", path: path(for: digest, visibility: visibility))
                }
                if visibility != .internal, fstat(fd, &info) != 0 {
                    let code = errno
                    close(fd)
                    throw StorageError.fromErrno(code, call: "fstat", path: path(for: digest, visibility: visibility))
                }
                guard Disk.isRegular(info) else {
                    close(fd)
                    throw StorageError.io(call: "fstat", path: path(for: digest, visibility: visibility), errno: EISDIR)
                }
                return OpenBlob(size: Int64(info.st_size), visibility: visibility, content: .file(fd: fd))
            }
        }
        return nil
    }

    /// One `fstatat` per folder through the folder descriptors (no `openat`, no retry round, no folder check): a PUT's
    /// look before its body (see `BlobStore.storedBlob` for what it may miss, which `publish` catches).
    public func storedBlob(_ digest: Digest) throws(StorageError) -> StoredBlob? {
        for visibility in Self.lookupOrder {
            let directory = visibility == .internal ? internalDirectory : publicDirectory
            var info = stat()
            if fstatat(directory, digest.hex, &info, AT_SYMLINK_NOFOLLOW) != 0 {
                if errno == ENOENT { continue }
                throw StorageError.fromErrno(errno, call: "stat", path: path(for: digest, visibility: visibility))
            }
            guard Disk.isRegular(info) else {
                throw StorageError.io(call: "stat", path: path(for: digest, visibility: visibility), errno: EISDIR)
            }
            return StoredBlob(visibility: visibility, size: Int64(info.st_size))
        }
        return nil
    }

    /// Where lookups look first: pvt/, so a blob in both folders is served and refused as internal (see `locate`).
    static let lookupOrder: [Visibility] = [.internal, .public]

    public func beginUpload(
        _ digest: Digest, visibility: Visibility, expectedSize: Int64
    ) throws(StorageError) -> any BlobUpload {
        try FileSystemUpload(store: self, digest: digest, visibility: visibility, expectedSize: expectedSize)
    }

    @discardableResult
    public func setVisibility(_ digest: Digest, to visibility: Visibility) throws(StorageError) -> Bool {
        let target = path(for: digest, visibility: visibility)
        let source = path(for: digest, visibility: visibility.other)
        return try locks.withLock(for: digest) { () throws(StorageError) -> Bool in
            let inTarget = try Disk.lstatIfExists(target) != nil
            let inSource = try Disk.lstatIfExists(source) != nil
            switch (inSource, inTarget) {
            case (true, true): throw StorageError.inBothFolders(digest)
            case (false, true): return false
            case (false, false): throw StorageError.notFound(digest)
            case (true, false): break
            }
            // rename is atomic: a reader finds the blob under one name or the other, never neither (see `locate`).
            var code = rename(source, target) == 0 ? 0 : errno
            if code == ENOENT, try recreateFolder(visibility, algorithm: digest.algorithm) {
                code = rename(source, target) == 0 ? 0 : errno
            }
            if code != 0 { throw StorageError.fromErrno(code, call: "rename", path: source) }
            try Disk.fsyncDirectory(directory(for: visibility, algorithm: digest.algorithm))
            try Disk.fsyncDirectory(directory(for: visibility.other, algorithm: digest.algorithm))
            return true
        }
    }

    @discardableResult
    public func delete(_ digest: Digest) throws(StorageError) -> Visibility {
        try locks.withLock(for: digest) { () throws(StorageError) -> Visibility in
            var found: Visibility?
            for visibility in Visibility.allCases {
                guard try Disk.unlinkIfExists(path(for: digest, visibility: visibility)) else { continue }
                found = visibility
                try Disk.fsyncDirectory(directory(for: visibility, algorithm: digest.algorithm))
            }
            guard let found else { throw StorageError.notFound(digest) }
            return found
        }
    }

    /// Publishes a verified, fsynced temp file under the digest's final name (called by `FileSystemUpload.commit`).
    ///
    /// `link` never replaces an existing name, so a racer's identical file is kept and EEXIST means "already stored".
    func publish(temporaryPath: String, digest: Digest, visibility: Visibility) throws(StorageError) -> CommitOutcome {
        let final = path(for: digest, visibility: visibility)
        let outcome = try locks.withLock(for: digest) { () throws(StorageError) -> CommitOutcome in
            if try Disk.lstatIfExists(path(for: digest, visibility: visibility.other)) != nil {
                throw StorageError.visibilityConflict(digest, stored: visibility.other, requested: visibility)
            }
            var code = link(temporaryPath, final) == 0 ? 0 : errno
            if code == ENOENT, try recreateFolder(visibility, algorithm: digest.algorithm) {
                // The folder had been removed (by hand, while serving): made again, the link is tried once more.
                code = link(temporaryPath, final) == 0 ? 0 : errno
            }
            if code == EEXIST { return .alreadyExisted }
            if code != 0 { throw StorageError.fromErrno(code, call: "link", path: final) }
            return .stored
        }
        // Outside the digest's lock, shared with the links made at the same moment (`FolderSyncs`).
        if outcome == .stored { try folderSyncs.sync(directory(for: visibility, algorithm: digest.algorithm)) }
        return outcome
    }
}
