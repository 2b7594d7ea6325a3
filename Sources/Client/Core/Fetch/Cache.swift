import Shared

/// The download cache: a flat folder of files named by their bare hex digest, as tooltool.py names them.
///
/// Safe for several processes at once: entries appear only by `rename` of a complete, verified temp file, a hit is
/// verified before use, and a corrupt entry is removed (and later replaced) rather than trusted.
struct Cache: Sendable {
    /// The cache folder.
    let folder: String

    /// The entry path for `digest`.
    func path(for digest: Digest) -> String { FileSystem.join(folder, digest.hex) }

    /// Puts a verified copy of `record`'s file at `target` when the cache holds a valid entry; true on a hit.
    ///
    /// The entry is hard-linked when the cache shares the target's filesystem, else copied; either way through a
    /// temp file renamed onto `target`. A hit refreshes the entry's mtime (for `purge`'s LRU order).
    func install(_ record: ManifestRecord, at target: String) -> Bool {
        let entry = path(for: record.digest)
        guard FileSystem.exists(entry) else { return false }
        switch LocalFileState.check(record, at: entry) {
        case .valid:
            break
        case let state:
            Log.warning("cache entry \(entry) is corrupt (\(state.problem(expected: record) ?? "")); removing it")
            FileSystem.removeFile(entry)
            return false
        }
        FileSystem.touch(entry)
        let temporary = FileSystem.temporaryPath(beside: target)
        do {
            if try !FileSystem.hardLink(entry, temporary) {
                try FileSystem.copyFile(entry, temporary)
                // The copy is read back once more: a cache entry swapped underneath us must not reach the target.
                guard LocalFileState.check(record, at: temporary) == .valid else {
                    FileSystem.removeFile(temporary)
                    return false
                }
            }
            try FileSystem.rename(temporary, to: target)
            return true
        } catch {
            FileSystem.removeFile(temporary)
            Log.warning("cannot use cache entry \(entry): \(error.message)")
            return false
        }
    }

    /// Adds the verified file at `source` as the entry for `digest` (hard link when possible, else a copy),
    /// atomically replacing any existing entry.
    func insert(_ source: String, digest: Digest) {
        let entry = path(for: digest)
        let temporary = FileSystem.temporaryPath(beside: entry)
        do {
            try FileSystem.makeDirectories(folder)
            if try !FileSystem.hardLink(source, temporary) { try FileSystem.copyFile(source, temporary) }
            try FileSystem.rename(temporary, to: entry)
            Log.debug("cached \(digest.hex.prefix(16))... in \(folder)")
        } catch {
            FileSystem.removeFile(temporary)
            Log.warning("cannot add \(source) to the cache: \(error.message)")
        }
    }
}
