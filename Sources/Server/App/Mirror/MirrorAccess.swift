import Shared
import Synchronization

/// What a mirror remembers of its upstream's word on pvt access and visibility, for `--upstream-auth-ttl`.
///
/// Two in-memory maps, both trusted for `ttl` only:
/// - `grants`: SHA-256 of a token to when the upstream last served a pvt blob to it. Per token, not per blob: the
///   upstream's pvt permission (`download:internal`) belongs to the token and covers every pvt blob, so one allowed
///   read vouches for the others, and a revoked token (or one that lost the permission) is refused within `ttl`.
/// - `confirmed`: digest to when the upstream last confirmed the blob's visibility (the fill's answer, or a HEAD).
///   A blob held here whose confirmation is older than `ttl` is asked about again before it is served, so a switch
///   upstream (public to pvt or back) reaches the mirror within `ttl`.
///
/// While a check found the upstreams unreachable within `ttl`, held public blobs are served without asking (so an
/// upstream that drops packets costs one connect timeout per `ttl`, not one per blob).
///
/// Any thread (everything is under one `Mutex`). Both maps are bounded: past `limit` entries they start over
/// (which only costs re-checks).
final class MirrorAccess: Sendable {
    private struct State {
        var grants: [[UInt8]: ContinuousClock.Instant] = [:]
        var confirmed: [Digest: ContinuousClock.Instant] = [:]
        /// When a check last found no upstream answering.
        var unreachableAt: ContinuousClock.Instant?
    }

    /// How a request for a blob held here goes on.
    enum Decision: Equatable {
        /// Serve it under the usual rules; with `allowed`, a pvt blob needs no token of this server's own (the
        /// upstream allowed the requester's within the TTL).
        case serve(allowed: Bool)
        /// Ask the upstream first (a HEAD), with the requester's token when given.
        case ask(forwardToken: Bool)
    }

    /// Entries kept per map before it starts over.
    static let limit = 65_536

    /// How long the upstream's word is trusted (`--upstream-auth-ttl`).
    let ttl: Duration
    private let state = Mutex(State())

    init(ttl: Duration) {
        self.ttl = ttl
    }

    /// What to do with a request for a blob held here as `visibility`. `ownPermission`: the caller holds a token
    /// of this server's own allowed to read pvt blobs (served from the store as on any server).
    func decide(
        _ digest: Digest, visibility: Visibility, credential: UpstreamCredential?, ownPermission: Bool
    ) -> Decision {
        let now = ContinuousClock.now
        return state.withLock { state in
            let fresh = state.confirmed[digest].map { now - $0 < ttl } ?? false
            switch visibility {
            case .public:
                // Asked without the token: the blob was public, and only its visibility is in question.
                let down = state.unreachableAt.map { now - $0 < ttl } ?? false
                return fresh || down ? .serve(allowed: false) : .ask(forwardToken: false)
            case .internal:
                if ownPermission { return .serve(allowed: false) }
                guard let credential else { return fresh ? .serve(allowed: false) : .ask(forwardToken: false) }
                if fresh, let granted = state.grants[credential.key], now - granted < ttl {
                    return .serve(allowed: true)
                }
                return .ask(forwardToken: true)
            }
        }
    }

    /// True when the upstream allowed `credential` to read a pvt blob within the TTL.
    func isGranted(_ credential: UpstreamCredential) -> Bool {
        let now = ContinuousClock.now
        return state.withLock { state in state.grants[credential.key].map { now - $0 < ttl } ?? false }
    }

    /// The upstream just served a pvt blob to `credential`.
    func grant(_ credential: UpstreamCredential) {
        let now = ContinuousClock.now
        state.withLock { state in
            if state.grants.count >= Self.limit { state.grants = [:] }
            state.grants[credential.key] = now
        }
    }

    /// A check found no upstream answering (nil: one answered).
    func noteReachable(_ reachable: Bool) {
        let now = ContinuousClock.now
        state.withLock { $0.unreachableAt = reachable ? nil : now }
    }

    /// The upstream just said which visibility `digest` has (and the store here now agrees).
    func confirm(_ digest: Digest) {
        let now = ContinuousClock.now
        state.withLock { state in
            if state.confirmed.count >= Self.limit { state.confirmed = [:] }
            state.confirmed[digest] = now
        }
    }
}
