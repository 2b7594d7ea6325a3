#if canImport(Glibc)
import Glibc
#endif

/// `tooltool purge -c DIR [-s GB]`: empty the cache, or delete its least recently used files until GB gigabytes
/// (GiB, as tooltool.py counts them) are free on its filesystem. Exits 0 when it succeeds (tooltool.py exits 1).
///
/// Entries are the cache's regular files; folders (such as each user's `.verified-<euid>` stamp folder) are never
/// taken for entries. A full purge also removes the user's stamp folder, an LRU purge the stamps of the entries it
/// deletes and any stamp whose entry is gone.
struct PurgeCommand {
    /// The parsed command line.
    let options: Options

    /// Temp files younger than this (seconds) may belong to a fetch running now and are kept.
    static let temporaryGrace: Int = 3600

    /// Purges.
    func run() throws(ClientError) -> Bool {
        guard let folder = options.cacheFolder else {
            throw ClientError(.configuration, "purge needs the cache folder: -c DIR or TOOLTOOL_CACHE")
        }
        guard FileSystem.isDirectory(folder) else {
            Log.info("cache folder \(folder) does not exist; nothing to purge")
            return true
        }
        let fullPurge = options.sizeGB == 0
        let wanted = Int64(options.sizeGB * 1024 * 1024 * 1024)
        let freeBefore = try FileSystem.freeBytes(folder)
        if !fullPurge, freeBefore >= wanted {
            Log.info("\(ProgressBoard.bytes(freeBefore)) free in \(folder); nothing to purge")
            return true
        }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var entries: [(mtime: Int, path: String)] = []
        for name in try FileSystem.list(folder) {
            let path = FileSystem.join(folder, name)
            guard let info = FileSystem.linkStatus(path), info.st_mode & S_IFMT == S_IFREG else { continue }
            let mtime = info.st_mtim.tv_sec
            if name.hasPrefix("."), name.hasSuffix(".tmp"), now.tv_sec - mtime < PurgeCommand.temporaryGrace {
                continue
            }
            entries.append((mtime, path))
        }
        entries.sort { $0.mtime < $1.mtime }
        var removed = 0
        var ok = true
        for entry in entries {
            if !fullPurge, try FileSystem.freeBytes(folder) >= wanted { break }
            if unlink(entry.path) == 0 || errno == ENOENT {
                removed += 1
                Log.debug("removed \(entry.path)")
            } else {
                Log.error(FileSystem.error("cannot remove", entry.path).message)
                ok = false
            }
        }
        removeStamps(in: folder, all: fullPurge)
        let freeAfter = try FileSystem.freeBytes(folder)
        if !fullPurge, freeAfter < wanted {
            Log.warning(
                "removed \(removed) files but only \(ProgressBoard.bytes(freeAfter)) are free in \(folder), wanted \(ProgressBoard.bytes(wanted))"
            )
        } else {
            Log.info("removed \(removed) files from \(folder)")
        }
        return ok
    }

    /// Removes the user's whole stamp folder (`all`), or the stamps whose entry is no longer a regular file in
    /// `folder` (those of the entries just purged, and any left behind by entries removed some other way). A stamp
    /// that stays is harmless, so problems are warnings, not failures.
    private func removeStamps(in folder: String, all: Bool) {
        guard FileSystem.exists(FileSystem.join(folder, StampFolder.name)) else { return }
        do {
            let stamps = try StampFolder(cacheFolder: folder, create: false, requirePrivate: false)
            if all {
                try stamps.removeAll()
                Log.debug("removed \(stamps.path)")
                return
            }
            let isEntry = { (name: String) in
                FileSystem.linkStatus(FileSystem.join(folder, name)).map { $0.st_mode & S_IFMT == S_IFREG } == true
            }
            // Per-entry stamp files from older fetches, and temp files a killed fetch left.
            var count = 0
            for name in try stamps.names() where name != StampTable.fileName {
                if !isEntry(name), stamps.remove(name) { count += 1 }
            }
            try stamps.locked { () throws(ClientError) in
                var table = try stamps.readTable()
                let before = table.lines.count
                table.lines = table.lines.filter { isEntry($0.key) }
                guard table.lines.count < before else { return }
                try stamps.write(StampTable.fileName, table.text)
                count += before - table.lines.count
            }
            Log.debug("removed \(count) verification stamp(s) from \(stamps.path)")
        } catch {
            Log.warning("cannot remove the verification stamps: \(error.message)")
        }
    }
}
