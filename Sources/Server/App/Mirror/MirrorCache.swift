import Shared
import Storage
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A mirror's record of the blobs it holds, their sizes and when each was last used, for `--max-cache-size`.
///
/// Recency lives here, in memory: a stored blob is touched by every GET or HEAD that opens it (one uncontended lock
/// on a loop thread, no disk write), and a blob fetched from upstream enters as the most recent once verified. At
/// start the record is rebuilt from the store's files, ordered by the later of their access and modification times
/// (so after a restart the order is as good as the filesystem's atime, which `relatime` updates about once a day).
///
/// Every blob in a mirror's store counts: a mirror stores no uploads (blob PUTs are redirected and the API proxied,
/// so uploads land upstream), so all of it came from upstream, or was put there by hand and can come again. Blobs still arriving are not in it: they live in temp files
/// and are never evicted; they count once verified.
///
/// Thread use: `touch` on loop threads, the rest on the worker queue (and `init` before serving); all state is
/// under `state`.
final class MirrorCache: Sendable {
    private struct Entry {
        var size: Int64
        /// A tick of `State.clock`: higher is more recent.
        var lastUse: UInt64
    }

    private struct State {
        var entries: [Digest: Entry] = [:]
        var bytes: Int64 = 0
        var clock: UInt64 = 0
    }

    /// The most bytes kept; nil for no limit (the record is still kept, for `/metrics`).
    let limit: Int64?
    private let metrics: Metrics
    private let state = Mutex(State())

    /// Reads the sizes and times of the blobs in `store` (blocking: a `stat` per blob, before serving).
    init(limit: Int64?, store: any BlobStore, metrics: Metrics) {
        self.limit = limit
        self.metrics = metrics
        var found: [(digest: Digest, size: Int64, used: Int64)] = []
        for visibility in Visibility.allCases {
            do {
                try store.forEachEntry(visibility) { entry in
                    guard entry.notABlob == nil, let digest = try? Digest(parsing: entry.name) else { return }
                    var info = stat()
                    guard stat(entry.location, &info) == 0 else { return }
                    let used = max(
                        info.st_atim.tv_sec * 1_000_000_000 + info.st_atim.tv_nsec,
                        info.st_mtim.tv_sec * 1_000_000_000 + info.st_mtim.tv_nsec)
                    found.append((digest, Int64(info.st_size), Int64(used)))
                }
            } catch {
                ServerLog.error("mirror: cannot list the \(visibility.rawValue) blobs of \(store.location): \(error)")
            }
        }
        found.sort { $0.used < $1.used }
        state.withLock { state in
            for blob in found where state.entries[blob.digest] == nil {
                state.clock += 1
                state.entries[blob.digest] = Entry(size: blob.size, lastUse: state.clock)
                state.bytes += blob.size
            }
        }
        metrics.mirrorCacheBytes(state.withLock { $0.bytes })
    }

    /// Bytes of the blobs recorded.
    var bytes: Int64 { state.withLock { $0.bytes } }

    /// A stored blob was opened for a request: it becomes the most recently used. Loop threads; cheap.
    func touch(_ digest: Digest) {
        state.withLock { state in
            guard state.entries[digest] != nil else { return }
            state.clock += 1
            state.entries[digest]!.lastUse = state.clock
        }
    }

    /// A blob fetched from upstream was verified and published: it enters as the most recent, then the least
    /// recently used blobs are evicted until the cache fits its limit. A blob larger than the whole limit evicts
    /// nothing else: it is evicted itself (its requesters already hold it open and get every byte). Worker queue.
    func added(_ digest: Digest, size: Int64, catalog: BlobCatalog) {
        if let limit, size > limit {
            return evict(digest, size: size, oversized: true, catalog: catalog)
        }
        state.withLock { state in
            if state.entries[digest] == nil { state.bytes += size }
            state.clock += 1
            state.entries[digest] = Entry(size: size, lastUse: state.clock)
        }
        fit(catalog: catalog)
    }

    /// Evicts the least recently used blobs until the rest fit the limit (after an addition, and at start for a
    /// store over a lowered limit). Worker queue.
    func fit(catalog: BlobCatalog) {
        var victims: [(digest: Digest, size: Int64)] = []
        let total = state.withLock { state -> Int64 in
            guard let limit, state.bytes > limit else { return state.bytes }
            // Sorted only when something must go; taken out under the lock, so two evictions never pick one blob.
            for (candidate, entry) in state.entries.sorted(by: { $0.value.lastUse < $1.value.lastUse }) {
                guard state.bytes > limit else { break }
                state.entries[candidate] = nil
                state.bytes -= entry.size
                victims.append((candidate, entry.size))
            }
            return state.bytes
        }
        metrics.mirrorCacheBytes(total)
        for victim in victims { evict(victim.digest, size: victim.size, oversized: false, catalog: catalog) }
    }

    /// Removes one blob's file and marks its index record as having no instance. A request that opened the file
    /// already keeps reading it (the inode lives until its descriptor closes); a later one fetches it again.
    private func evict(_ digest: Digest, size: Int64, oversized: Bool, catalog: BlobCatalog) {
        do {
            try catalog.evict(digest)
        } catch {
            ServerLog.error("mirror: cannot evict \(digest.hex): \(error)")
            return
        }
        metrics.mirrorEvicted()
        let limit = self.limit ?? 0
        if oversized {
            ServerLog.info(
                "mirror: evicted \(digest.hex) (\(size) bytes): larger than --max-cache-size \(limit), served but not kept"
            )
        } else {
            ServerLog.info(
                "mirror: evicted \(digest.hex) (\(size) bytes, least recently used); cache now \(bytes) of \(limit) bytes"
            )
        }
    }
}
