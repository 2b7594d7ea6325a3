import Shared
import Synchronization

/// Counts PUTs in progress per digest, so `/upload/complete` can answer 409 while one is still streaming.
final class InFlightUploads: Sendable {
    private let counts = Mutex<[Digest: Int]>([:])

    /// Notes the start of an upload.
    func begin(_ digest: Digest) { counts.withLock { $0[digest, default: 0] += 1 } }

    /// Notes the end (success or failure) of an upload begun with `begin`.
    func end(_ digest: Digest) {
        counts.withLock { counts in
            let left = (counts[digest] ?? 1) - 1
            counts[digest] = left > 0 ? left : nil
        }
    }

    /// True while an upload of `digest` is in progress.
    func contains(_ digest: Digest) -> Bool { counts.withLock { $0[digest] != nil } }
}
