import Dispatch
import Shared
import Storage
import Synchronization

/// PUTs in progress per digest, so `/upload/complete` and PATCH can answer 409 while one is still streaming.
///
/// This server's own uploads are counted in memory. When the index is shared (PostgreSQL), each digest's first
/// upload here also takes a lease in the index, renewed every third of `leaseSeconds` while it streams and ended
/// with the last one, so every server sees it, and a server killed mid-upload stops blocking the others once its
/// lease runs out. Lease calls run in order on their own serial queue, never on an event loop.
final class InFlightUploads: Sendable {
    private struct State {
        var counts: [Digest: Int] = [:]
        var leases: [Digest: Int64] = [:]
    }

    private let state = Mutex(State())
    private let index: (any MetadataIndex)?
    private let leaseSeconds: Int64
    private let queue = DispatchQueue(label: "tooltool.upload-leases")

    /// Tracks uploads in memory, and in `index` with leases of `leaseSeconds` when it is shared.
    init(index: (any MetadataIndex)? = nil, leaseSeconds: Int64 = 60) {
        self.index = index.flatMap { $0.isShared ? $0 : nil }
        self.leaseSeconds = leaseSeconds
        if self.index != nil { scheduleRenewal() }
    }

    /// Renews this server's leases every third of the lease, for as long as this object lives.
    private func scheduleRenewal() {
        let period = DispatchTimeInterval.milliseconds(Int(max(1, leaseSeconds) * 1000 / 3))
        queue.asyncAfter(deadline: .now() + period) { [weak self] in
            guard let self else { return }
            renew()
            scheduleRenewal()
        }
    }

    /// Notes the start of an upload (on a loop thread: the index is written later, on the lease queue).
    func begin(_ digest: Digest) {
        let first = state.withLock { state in
            state.counts[digest, default: 0] += 1
            return state.counts[digest] == 1
        }
        guard first, let index else { return }
        let lease = leaseSeconds
        queue.async { [self] in
            do {
                if let id = try index.beginUpload(digest, lease: lease) { state.withLock { $0.leases[digest] = id } }
            } catch {
                ServerLog.error("registering the upload of \(digest.hex) in the index failed: \(error)")
            }
        }
    }

    /// Notes the end (success or failure) of an upload begun with `begin`, then runs `then`: at once, or, when this
    /// was the digest's last upload here and the index is shared, once its lease is gone from the index (or failed
    /// to go: it then expires by itself). A PUT's answer goes out in `then`, so no server that hears of the upload
    /// from its client can still find it in flight.
    func end(_ digest: Digest, then: @escaping @Sendable () -> Void = {}) {
        let last = state.withLock { state in
            let left = (state.counts[digest] ?? 1) - 1
            state.counts[digest] = left > 0 ? left : nil
            return left <= 0
        }
        guard last, let index else { return then() }
        queue.async { [self] in
            defer { then() }
            // Runs after the matching `begin`'s job (one serial queue), so its lease id is known by now.
            guard let id = state.withLock({ $0.leases.removeValue(forKey: digest) }) else { return }
            do { try index.endUpload(id) } catch {
                ServerLog.error("ending the upload lease of \(digest.hex) failed (it expires by itself): \(error)")
            }
        }
    }

    /// True while an upload of `digest` is in progress on this server.
    func containsLocally(_ digest: Digest) -> Bool { state.withLock { $0.counts[digest] != nil } }

    /// True while an upload of `digest` is in progress here or, with a shared index, on any server holding a
    /// live lease. Asks the database: call it from the worker queue.
    func contains(_ digest: Digest) throws(IndexError) -> Bool {
        if containsLocally(digest) { return true }
        guard let index else { return false }
        return try index.uploadInFlight(digest)
    }

    /// Whether other servers' uploads count (the index is shared).
    var isShared: Bool { index != nil }

    private func renew() {
        guard let index else { return }
        let ids = state.withLock { Array($0.leases.values) }
        do { try index.renewUploads(ids, lease: leaseSeconds) } catch {
            ServerLog.error("renewing \(ids.count) upload lease(s) failed: \(error)")
        }
    }
}
