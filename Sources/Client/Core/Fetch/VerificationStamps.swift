import Shared
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Verification stamps: what lets a cache hit skip its SHA-512, the way git's index and Bazel's digest cache trust
/// stat data.
///
/// The stamp of an entry, a line of `<cache>/.verified-<euid>/stamps` (`StampTable`), holds the `EntryState`
/// (device, inode, size, mtime, ctime, link count) the entry had when this user last verified it: by hashing a hit,
/// or by hashing a download as it arrived. A hit whose state still agrees (`EntryState.mismatch`) is used as it
/// is; any other is hashed as before and, when valid, stamped again. Stamps live in a folder only the effective user
/// can write (`StampFolder`), so another user of a shared cache can never vouch for bytes. Any stamp problem means
/// hashing, never a failed fetch. The table is read once, when the fetch starts, so a hit costs no system call here.
///
/// Stamps are written once, at the end of a fetch (`writePending`), because installing a hit (link(2), the mtime
/// refresh) moves the entry's ctime to "now", and a ctime recorded in the tick it was set could hide a change made
/// later in that same tick (git's "racy git" problem). Safe from any thread: the table read at the start never
/// changes, and the notes are behind a lock.
final class VerificationStamps: Sendable {
    private let folder: StampFolder
    /// False with `--verify-cache`: stamps are written but not trusted, so every hit is hashed.
    private let trusted: Bool
    /// The table as the fetch found it, or why it could not be read.
    private let table: Result<StampTable, ClientError>
    private let notes = Mutex<[Note]>([])
    /// Digests whose entry was found corrupt and removed: their stamps go when the table is written.
    private let removals = Mutex<Set<String>>([])
    /// The effective user, read once (`geteuid` is a system call, and a hit asks for it).
    let user = geteuid()

    /// An entry to stamp at the end of the fetch, and the state it was left in.
    private struct Note {
        let entry: String
        let name: String
        let state: EntryState
    }

    private init(folder: StampFolder, trusted: Bool) {
        self.folder = folder
        self.trusted = trusted
        do {
            table = .success(try folder.readTable())
        } catch {
            table = .failure(error)
        }
    }

    /// The stamps of `cacheFolder`, creating their folder; nil (saying why at debug level) when that folder cannot
    /// be trusted, in which case every hit is hashed. `trusted: false` is `--verify-cache`.
    static func open(cacheFolder: String, trusted: Bool) -> VerificationStamps? {
        do {
            return VerificationStamps(
                folder: try StampFolder(cacheFolder: cacheFolder, create: true, requirePrivate: true),
                trusted: trusted)
        } catch {
            Log.debug("ignoring verification stamps: \(error.message); every cache hit is hashed")
            return nil
        }
    }

    /// The stamp that lets the entry for `record`, found by `lstat` as `info`, be used without hashing; nil when
    /// it must be hashed. Logs at debug either way, naming `target`.
    func vouch(for record: ManifestRecord, entry info: stat, target: String) -> EntryState? {
        switch check(record, info) {
        case .failure(let reason):
            Log.debug("\(target): hashing the cache entry (\(reason.text))")
            return nil
        case .success(let stamp):
            Log.debug("\(target): trusted the cache's verification stamp, not hashing the entry")
            return stamp
        }
    }

    /// Why a stamp does not vouch for an entry, for the debug log.
    private struct Distrust: Error {
        let text: String
        init(_ text: String) { self.text = text }
    }

    private func check(_ record: ManifestRecord, _ info: stat) -> Result<EntryState, Distrust> {
        guard trusted else { return .failure(Distrust("--verify-cache")) }
        guard info.st_mode & S_IFMT == S_IFREG else { return .failure(Distrust("not a regular file")) }
        if let size = record.size, Int64(info.st_size) != size {
            return .failure(Distrust("its size is not the manifest's"))
        }
        let stamp: EntryState
        switch table {
        case .failure(let error):
            return .failure(Distrust("cannot read its stamp: \(error.message)"))
        case .success(let table):
            switch table.lines[record.digest.hex] {
            case nil: return .failure(Distrust("no verification stamp"))
            case .garbled: return .failure(Distrust("its stamp is not a valid stamp"))
            case .stamp(let state): stamp = state
            }
        }
        if let problem = EntryState(info).mismatch(against: stamp, ownedByUs: info.st_uid == user) {
            return .failure(Distrust("stamp out of date: \(problem)"))
        }
        return .success(stamp)
    }

    /// Notes the entry at `entry` (for `digest`), verified while it was the file `verified`, for stamping at the
    /// end of the fetch; its state is taken now, after our own changes to it, and must be unchanged by then.
    func remember(entry: String, digest: Digest, verified: EntryState) {
        guard let info = FileSystem.linkStatus(entry), info.st_mode & S_IFMT == S_IFREG else { return }
        let state = EntryState(info)
        guard state.isSameFile(as: verified), state.size == verified.size else {
            Log.debug("cache entry \(entry) was replaced while in use; not stamping it")
            return
        }
        notes.withLock { $0.append(Note(entry: entry, name: digest.hex, state: state)) }
    }

    /// Notes the entry at `entry` (for `digest`) for stamping at the end of the fetch, in `state`: its state after
    /// our own changes, taken from the verified file itself (`fstat` of the descriptor that made the entry), so
    /// no `lstat` is needed here; `writePending` checks that the entry is still in that state.
    func remember(entry: String, digest: Digest, state: EntryState) {
        notes.withLock { $0.append(Note(entry: entry, name: digest.hex, state: state)) }
    }

    /// Removes the stamp for `digest` (its entry was found corrupt and removed).
    func remove(_ digest: Digest) { _ = removals.withLock { $0.insert(digest.hex) } }

    /// Writes the stamps noted by `remember`, once every worker is done.
    ///
    /// Waits until the coarse clock is past the newest ctime among them (one kernel tick at most), then re-reads
    /// each entry and stamps it only when it is still in the state noted and its ctime is strictly earlier than the
    /// clock read after that `lstat`: whatever changes it afterwards gets a later ctime, so the stamp will not match.
    func writePending() {
        let notes = self.notes.withLock { list in
            defer { list.removeAll() }
            return list
        }
        let removed = removals.withLock { $0 }
        guard !notes.isEmpty || !removed.isEmpty else { return }
        // One `lstat` per entry, after the clock has passed every noted ctime: an entry changed since it was noted
        // differs from its note (or, changed in the noted ctime's own tick, has a ctime the clock has not passed).
        let waited = notes.map(\.state.changed).max().map(Self.waitForCoarseClock(toPass:)) ?? 0
        var stamps: [String: EntryState] = [:]
        for note in notes where stamps[note.name] == nil {
            guard let info = FileSystem.linkStatus(note.entry) else { continue }
            let clock = Timestamp.coarseNow()
            let state = EntryState(info)
            guard state == note.state, state.changed < clock else { continue }
            stamps[note.name] = state
        }
        // Under the folder's lock, the table as it is now (another fetch may have written it since we read it),
        // with our stamps and removals applied, replaces the file in one rename.
        do throws(ClientError) {
            try folder.locked { () throws(ClientError) in
                var table = try folder.readTable()
                for name in removed { table.lines[name] = nil }
                for (name, state) in stamps { table.lines[name] = .stamp(state) }
                try folder.write(StampTable.fileName, table.text)
            }
        } catch {
            Log.debug("cannot write a verification stamp: \(error.message)")
            stamps.removeAll()
        }
        let skipped = Set(notes.map(\.name)).count - stamps.count
        Log.debug(
            "wrote \(stamps.count) verification stamp(s) in \(folder.path) after waiting \(waited / 1_000_000) ms for the clock"
                + (skipped > 0 ? "; \(skipped) entry(ies) not stamped (changed meanwhile, or the write failed)" : ""))
    }

    /// Waits until `CLOCK_REALTIME_COARSE` reads later than `instant`; returns the nanoseconds waited. Gives up
    /// after 50 ms (a timestamp in the future: a clock set back, a file server's clock ahead); `writePending` then
    /// skips the entries whose ctime is not in the past.
    private static func waitForCoarseClock(toPass instant: Timestamp) -> Int64 {
        let start = Timestamp.coarseNow()
        let tick = Timestamp.coarseResolution()
        var now = start
        while now <= instant, start.nanoseconds(until: instant) < 50_000_000, start.nanoseconds(until: now) < 50_000_000
        {
            Timestamp.sleep(nanoseconds: min(now.nanoseconds(until: instant) + 1_000, tick))
            now = Timestamp.coarseNow()
        }
        return start.nanoseconds(until: now)
    }
}
