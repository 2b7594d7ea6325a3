import Shared

#if canImport(Glibc)
import Glibc
#endif

/// The download cache: a flat folder of files named by their bare hex digest, as tooltool.py names them.
///
/// Safe for several processes at once: entries appear only by `rename` of a complete, verified temp file, a hit is
/// verified before use (by hashing it, or by its verification stamp, see `VerificationStamps`), and a corrupt entry
/// is removed (and later replaced) rather than trusted.
struct Cache: Sendable {
    /// The cache folder.
    let folder: String
    /// This user's verification stamps; nil when their folder cannot be trusted (every hit is then hashed).
    let stamps: VerificationStamps?

    /// The cache in `folder` (which must exist), with its stamps; `verifyCache` hashes every hit all the same.
    init(folder: String, verifyCache: Bool) {
        self.folder = folder
        stamps = VerificationStamps.open(cacheFolder: folder, trusted: !verifyCache)
    }

    /// The entry path for `digest`.
    func path(for digest: Digest) -> String { FileSystem.join(folder, digest.hex) }

    /// Puts a verified copy of `record`'s file at `target` when the cache holds a valid entry; true on a hit.
    ///
    /// The entry is hard-linked when the cache shares the target's filesystem, else copied; either way through a
    /// temp file renamed onto `target`. A hit refreshes the entry's mtime (for `purge`'s LRU order).
    func install(_ record: ManifestRecord, at target: String) -> Bool {
        let entry = path(for: record.digest)
        guard let found = FileSystem.linkStatus(entry) else { return false }
        let seen = EntryState(found)
        // May the entry be stamped after this? Yes when its stamp vouched for it; after a hash, only when the
        // entry was not changed during the hash nor in the clock tick before it (its ctime is then in the past).
        let stampable: Bool
        if let stamps, stamps.vouch(for: record, entry: found, target: target) {
            stampable = true
        } else {
            let settled = seen.changed < Timestamp.coarseNow()
            switch LocalFileState.check(record, at: entry) {
            case .valid:
                break
            case let state:
                Log.warning("cache entry \(entry) is corrupt (\(state.problem(expected: record) ?? "")); removing it")
                FileSystem.removeFile(entry)
                stamps?.remove(record.digest)
                return false
            }
            stampable = settled && found.st_mode & S_IFMT == S_IFREG
                && FileSystem.linkStatus(entry).map(EntryState.init) == seen
        }
        FileSystem.touch(entry)
        let temporary = FileSystem.temporaryPath(beside: target)
        do {
            let linked = try FileSystem.hardLink(entry, temporary)
            if !linked {
                try FileSystem.copyFile(entry, temporary)
                // The copy is read back once more: a cache entry swapped underneath us must not reach the target.
                guard LocalFileState.check(record, at: temporary) == .valid else {
                    FileSystem.removeFile(temporary)
                    return false
                }
            }
            try FileSystem.rename(temporary, to: target)
            // A stamp vouches for the file that was verified: when linked, the target must be that very file.
            if stampable, let stamps,
               !linked || FileSystem.linkStatus(target).map({ EntryState($0).isSameFile(as: seen) }) == true {
                stamps.remember(entry: entry, digest: record.digest, verified: seen)
            }
            return true
        } catch {
            FileSystem.removeFile(temporary)
            Log.warning("cannot use cache entry \(entry): \(error.message)")
            return false
        }
    }

    /// Adds the verified file at `source` as the entry for `digest` (hard link when possible, else a copy),
    /// atomically replacing any existing entry; the new entry gets a verification stamp at the end of the fetch.
    func insert(_ source: String, digest: Digest) {
        let entry = path(for: digest)
        let temporary = FileSystem.temporaryPath(beside: entry)
        do {
            try FileSystem.makeDirectories(folder)
            let verified = FileSystem.linkStatus(source).map(EntryState.init)
            let linked = try FileSystem.hardLink(source, temporary)
            if !linked { try FileSystem.copyFile(source, temporary) }
            let made = FileSystem.linkStatus(temporary).map(EntryState.init)
            try FileSystem.rename(temporary, to: entry)
            Log.debug("cached \(digest.hex.prefix(16))... in \(folder)")
            if let stamps, let made, let verified, !linked || made.isSameFile(as: verified) {
                stamps.remember(entry: entry, digest: digest, verified: made)
            }
        } catch {
            FileSystem.removeFile(temporary)
            Log.warning("cannot add \(source) to the cache: \(error.message)")
        }
    }

    /// Writes the verification stamps of this fetch's hits and inserts; call once, after every worker is done.
    func finish() {
        stamps?.writePending()
    }
}
