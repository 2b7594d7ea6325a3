import HTTPServer
import Shared

extension BlobRoutes {
    /// Upstream round trips (re-joins after a refusal meant for another token, checks) one request may make.
    static let mirrorRounds = 3

    /// A GET or HEAD for a blob this mirror does not hold: the request waits for the upstream's head (joining the
    /// transfer already running for the digest, if any), then is answered like a stored blob whose bytes come from
    /// the growing temp file; or with the upstreams' failure (401, 403, 404, 502, 504). A new transfer forwards the
    /// requester's token; a requester joining a pvt transfer with another token is allowed on its own first.
    func getFromUpstream(
        _ head: HTTPRequestHead, digest: Digest, caller: Caller, mirror: Mirror, round: Int = 0
    ) -> HTTPRequestAction {
        let credential = UpstreamCredential(head, caller: caller)
        return .decideLater { decider in
            mirror.request(digest, credential: credential) { outcome in
                decider.decide {
                    answer(
                        head, digest: digest, caller: caller, credential: credential, outcome: outcome, mirror: mirror,
                        round: round)
                }
            }
        }
    }

    /// Loop thread: the answer once the mirror knows.
    private func answer(
        _ head: HTTPRequestHead, digest: Digest, caller: Caller, credential: UpstreamCredential?,
        outcome: MirrorOutcome, mirror: Mirror, round: Int
    ) -> HTTPRequestAction {
        switch outcome {
        case .stored:
            return get(head, digest: digest, caller: caller)
        case .arriving(let fill, let size, let visibility):
            var allowed = false
            if visibility == .internal, !Self.hasOwnPermission(caller), let credential {
                if credential.same(as: fill.credential) || mirror.access.isGranted(credential) {
                    allowed = true
                } else {
                    // Another requester's pvt transfer: this token must be allowed itself before any byte goes out.
                    return confirmThenRejoin(
                        head, digest: digest, caller: caller, credential: credential, mirror: mirror,
                        round: round)
                }
            }
            // Without a token (or one of this server's own) the usual rules apply: a pvt blob needs a local token.
            return .respond(
                answer(
                    head, digest: digest, size: size, visibility: visibility, caller: caller, allowed: allowed,
                    release: {}
                ) { offset, length in
                    .stream(
                        MirrorBodySource(fill, offset: offset, length: length, worker: mirror.worker), length: length)
                })
        case .failed(let failure, let askedWith):
            // A refusal of the token the transfer was asked with is not this requester's answer when its own differs.
            let sameAsk = credential.map { $0.same(as: askedWith) } ?? (askedWith == nil)
            if failure.isDenial, !sameAsk, round < Self.mirrorRounds {
                return getFromUpstream(head, digest: digest, caller: caller, mirror: mirror, round: round + 1)
            }
            return .respond(Self.response(failure, caller: caller))
        }
    }

    /// Asks the upstream whether `credential` may read the pvt blob arriving for someone else; if so, joins again
    /// (now granted), else answers with the upstream's refusal.
    private func confirmThenRejoin(
        _ head: HTTPRequestHead, digest: Digest, caller: Caller, credential: UpstreamCredential,
        mirror: Mirror, round: Int
    ) -> HTTPRequestAction {
        guard round < Self.mirrorRounds else { return .respond(Self.unconfirmed(caller)) }
        return .decideLater { decider in
            UpstreamCheck.run(mirror, digest, credential: credential) { verdict in
                if case .privateAllowed = verdict { mirror.access.grant(credential) }
                decider.decide {
                    switch verdict {
                    case .privateAllowed, .publicBlob, .privateBlob, .notHeld:
                        return getFromUpstream(head, digest: digest, caller: caller, mirror: mirror, round: round + 1)
                    case .denied(let status):
                        return .respond(Self.response(.denied(status, "asked with this token"), caller: caller))
                    case .unreachable(let failure):
                        return .respond(Self.response(failure, caller: caller))
                    }
                }
            }
        }
    }

    /// True when `caller` holds a token of this server's own that may read pvt blobs.
    static func hasOwnPermission(_ caller: Caller) -> Bool {
        if case .token(_, _, let permissions) = caller { return permissions.contains(.downloadInternal) }
        return false
    }

    /// The JSON error answer for a mirror's failure (a 401 with `WWW-Authenticate`, as the upstream's).
    static func response(_ failure: MirrorFailure, caller: Caller) -> HTTPResponse {
        if failure.status == .unauthorized {
            var response = Authorization.unauthorized(failure.description)
            response.logUser = caller.user
            return response
        }
        return APIResponse.error(failure.status, failure.name, failure.description, user: caller.user)
    }

    /// 502 when the upstream's answers kept changing for longer than `mirrorRounds` round trips.
    static func unconfirmed(_ caller: Caller) -> HTTPResponse {
        response(.badGateway("the upstream's answers on this blob kept changing; try again"), caller: caller)
    }
}
