import HTTPServer
import Shared

extension BlobRoutes {
    /// A GET or HEAD for a blob this mirror does not hold: the request waits for the upstream's head (joining the
    /// transfer already running for the digest, if any), then is answered like a stored public blob whose bytes
    /// come from the growing temp file; or with the upstreams' failure (404, 502, 504). The mirror asks without
    /// credentials, so a pvt blob is never fetched: its miss is a 404 here.
    func getFromUpstream(_ head: HTTPRequestHead, digest: Digest, caller: Caller, mirror: Mirror) -> HTTPRequestAction {
        .decideLater { decider in
            mirror.request(digest) { outcome in
                decider.decide { answer(head, digest: digest, caller: caller, outcome: outcome, mirror: mirror) }
            }
        }
    }

    /// Loop thread: the answer once the mirror knows.
    private func answer(_ head: HTTPRequestHead, digest: Digest, caller: Caller, outcome: MirrorOutcome,
                        mirror: Mirror) -> HTTPRequestAction {
        switch outcome {
        case .stored:
            return get(head, digest: digest, caller: caller)
        case .arriving(let fill, let size):
            return .respond(answer(head, digest: digest, size: size, visibility: .public, caller: caller, release: {}) {
                offset, length in
                .stream(MirrorBodySource(fill, offset: offset, length: length, worker: mirror.worker), length: length)
            })
        case .failed(let failure):
            return .respond(APIResponse.error(failure.status, failure.name, failure.description, user: caller.user))
        }
    }
}
