import Shared

#if canImport(Glibc)
import Glibc
#endif

/// The download cache: a flat folder of files named by their bare hex digest, as tooltool.py names them.
///
/// Safe for several processes at once: entries appear only by `link` or `rename` of a complete, verified file, a
/// hit is verified before use (by hashing it, or by its verification stamp, see `VerificationStamps`), and a
/// corrupt entry is removed (and later replaced) rather than trusted.
///
/// A hit costs few system calls (issue 17): the folder is held open (`CacheDirectory`), the entry is looked at
/// with one `fstatat` and linked straight onto a missing target with one `linkat`; its mtime (`purge`'s LRU order)
/// is refreshed only when it is over an hour old, and its stamp is written again only when the next fetch would
/// otherwise have to hash it.
struct Cache: Sendable {
    /// The open cache folder.
    let directory: CacheDirectory
    /// This user's verification stamps; nil when their folder cannot be trusted (every hit is then hashed).
    let stamps: VerificationStamps?

    /// A hit refreshes its entry's mtime only when it is older than this (seconds): `purge` needs the order in
    /// which entries were last used, not the instant, and a `utimensat` per hit also moved the entry's ctime and
    /// mtime, so its stamp had to be written again on every hit.
    static let touchInterval = 3600

    /// The cache in `folder` (which must exist), with its stamps; `verifyCache` hashes every hit all the same.
    init(folder: String, verifyCache: Bool) throws(ClientError) {
        directory = try CacheDirectory(path: folder)
        stamps = VerificationStamps.open(cacheFolder: folder, trusted: !verifyCache)
    }

    /// The cache folder.
    var folder: String { directory.path }

    /// The entry path for `digest`.
    func path(for digest: Digest) -> String { FileSystem.join(folder, digest.hex) }

    /// Puts a verified copy of `record`'s file at `target` when the cache holds a valid entry; true on a hit.
    /// `replacing` says that something (not a valid file) is at `target` already.
    ///
    /// A missing target gets a hard link to the entry, made under its final name at once (a link is never half
    /// written). Otherwise the entry is hard-linked when the cache shares the target's filesystem, else copied,
    /// through a temp file renamed onto `target`.
    func install(_ record: ManifestRecord, at target: String, replacing: Bool) -> Bool {
        let name = record.digest.hex
        let entry = path(for: record.digest)
        guard let found = directory.status(name) else { return false }
        let seen = EntryState(found)
        // May the entry be stamped after this? Yes when its stamp vouched for it; after a hash, only when the
        // entry was not changed during the hash nor in the clock tick before it (its ctime is then in the past).
        let stamp = stamps?.vouch(for: record, entry: found, target: target)
        var stampable = stamp != nil
        if stamp == nil {
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
            stampable =
                settled && found.st_mode & S_IFMT == S_IFREG && directory.status(name).map(EntryState.init) == seen
        }
        let touched = Self.isStale(found.st_mtim)
        if touched { directory.touch(name) }
        let linked: Bool
        if !replacing, directory.link(name, to: target) {
            linked = true
        } else {
            let temporary = FileSystem.temporaryPath(beside: target)
            do {
                linked = try FileSystem.hardLink(entry, temporary)
                if !linked {
                    try FileSystem.copyFile(entry, temporary)
                    // The copy is read back once more: a cache entry swapped underneath us must not reach the target.
                    guard LocalFileState.check(record, at: temporary) == .valid else {
                        FileSystem.removeFile(temporary)
                        return false
                    }
                }
                try FileSystem.rename(temporary, to: target)
            } catch {
                FileSystem.removeFile(temporary)
                Log.warning("cannot use cache entry \(entry): \(error.message)")
                return false
            }
        }
        // A stamp that vouched stays good for the next fetch when our link leaves it so: the link count we add
        // goes when the target is removed, and the ctime that moves is then excused by the count being below the
        // stamp's (`EntryState.mismatch`). Otherwise (a hashed hit, a refreshed mtime, a count not below the
        // stamp's, another user's entry) the entry is stamped as this fetch leaves it.
        let stillVouched =
            stamp.map { !touched && (!linked || (seen.links < $0.links && found.st_uid == stamps?.user)) } ?? false
        // A stamp vouches for the file that was verified: when linked, the target must be that very file.
        if stampable, !stillVouched, let stamps,
            !linked || FileSystem.linkStatus(target).map({ EntryState($0).isSameFile(as: seen) }) == true
        {
            stamps.remember(entry: entry, digest: record.digest, verified: seen)
        }
        return true
    }

    /// True when an entry last used at `mtime` is due for a refresh of its mtime (`touchInterval`).
    static func isStale(_ mtime: timespec) -> Bool {
        let now = Timestamp.coarseNow()
        return now.seconds - mtime.tv_sec >= touchInterval
    }

    /// Adds the verified download `file`, just committed to `target`, as the entry for `digest`.
    ///
    /// An unnamed download (`DownloadFile.isUnnamed`) is linked into the cache folder from its descriptor, so the
    /// entry is the very file that was hashed whatever happens to `target` meanwhile, and its state for the stamp
    /// is one `fstat` of it: one `linkat` and one `fstat` per file. Anything else (a named temp file, an entry
    /// already there, another filesystem) goes through `insert(_:digest:)`.
    func insert(_ file: DownloadFile, committedTo target: String, digest: Digest) {
        guard file.link(into: directory.descriptor, as: digest.hex) == 0 else {
            insert(target, digest: digest)
            return
        }
        Log.debug("cached \(digest.hex.prefix(16))... in \(folder)")
        if let stamps, let info = file.fileStatus() {
            stamps.remember(entry: path(for: digest), digest: digest, state: EntryState(info))
        }
    }

    /// Adds the verified file at `source` as the entry for `digest`: a hard link made under the entry's name at
    /// once when there is no entry; else (an entry there, another filesystem) a hard link or copy made under a temp
    /// name and renamed over it. The new entry gets a verification stamp at the end of the fetch.
    func insert(_ source: String, digest: Digest) {
        let name = digest.hex
        let entry = path(for: digest)
        guard let verified = FileSystem.linkStatus(source).map(EntryState.init) else {
            Log.warning("cannot add \(source) to the cache: it is gone")
            return
        }
        if directory.link(from: source, as: name) {
            Log.debug("cached \(digest.hex.prefix(16))... in \(folder)")
            stamps?.remember(entry: entry, digest: digest, verified: verified)
            return
        }
        let temporary = FileSystem.temporaryPath(beside: entry)
        do {
            let linked = try FileSystem.hardLink(source, temporary)
            if !linked { try FileSystem.copyFile(source, temporary) }
            let made = FileSystem.linkStatus(temporary).map(EntryState.init)
            try FileSystem.rename(temporary, to: entry)
            Log.debug("cached \(digest.hex.prefix(16))... in \(folder)")
            if let stamps, let made, !linked || made.isSameFile(as: verified) {
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
