import HTTPServer
import Shared
import Storage

extension BlobRoutes {
    /// A GET or HEAD for a blob this mirror holds: served as on any server while the upstream's word on it is fresh
    /// (`MirrorAccess`); else the upstream is asked first (a `HEAD`, with the requester's token for a pvt blob) and
    /// the store follows what it said (the blob moves between `public/` and `pvt/`). Takes care of `blob`.
    func getHeld(
        _ head: HTTPRequestHead, digest: Digest, blob: OpenBlob, caller: Caller, mirror: Mirror,
        round: Int = 0
    ) -> HTTPRequestAction {
        // Only a pvt blob needs the token (parsed and hashed only then: public blobs are the hot path); a token of
        // this server's own is never sent upstream.
        let credential = blob.visibility == .internal ? UpstreamCredential(head, caller: caller) : nil
        let own = blob.visibility == .internal && Self.hasOwnPermission(caller)
        switch mirror.access.decide(digest, visibility: blob.visibility, credential: credential, ownPermission: own) {
        case .serve(let allowed):
            return .respond(answer(head, digest: digest, blob: blob, caller: caller, allowed: allowed))
        case .ask(let forwardToken):
            let held = blob.visibility
            blob.close()
            guard round < Self.mirrorRounds else { return .respond(Self.unconfirmed(caller)) }
            return askUpstream(
                head, digest: digest, caller: caller, mirror: mirror, held: held,
                credential: forwardToken ? credential : nil, round: round)
        }
    }

    /// Asks the upstream about a held blob, brings the store in line on the worker queue (a move is a rename and
    /// two directory fsyncs), then answers.
    private func askUpstream(
        _ head: HTTPRequestHead, digest: Digest, caller: Caller, mirror: Mirror, held: Visibility,
        credential: UpstreamCredential?, round: Int
    ) -> HTTPRequestAction {
        .decideLater { decider in
            UpstreamCheck.run(mirror, digest, credential: credential) { verdict in
                mirror.worker.async {
                    let settled = Self.settle(
                        verdict, digest: digest, held: held, credential: credential, mirror: mirror)
                    decider.decide {
                        guard settled else {
                            return .respond(
                                APIResponse.error(
                                    .internalServerError, .internalServerError,
                                    "the blob's visibility could not be updated", user: caller.user))
                        }
                        return afterCheck(
                            head, digest: digest, caller: caller, mirror: mirror, verdict: verdict, held: held,
                            asked: credential, round: round)
                    }
                }
            }
        }
    }

    /// Worker queue: records what the upstream said (grant, confirmation) and moves the blob to the visibility it
    /// has upstream. False when the move failed.
    private static func settle(
        _ verdict: UpstreamVerdict, digest: Digest, held: Visibility, credential: UpstreamCredential?,
        mirror: Mirror
    ) -> Bool {
        let upstream: Visibility
        switch verdict {
        case .publicBlob: upstream = .public
        case .privateAllowed, .privateBlob: upstream = .internal
        case .notHeld:
            mirror.access.confirm(digest)  // nothing to follow: it stays as it is here
            return true
        case .unreachable:
            // Cached public blobs keep being served while the upstream is down (`MirrorAccess` stops asking for a
            // TTL); a pvt one is not served to an upstream token the mirror cannot vouch for.
            return true
        case .denied:
            return true
        }
        if upstream != held {
            do {
                try mirror.catalog.setVisibility(digest, to: upstream, mustBeStored: false)
                ServerLog.info("mirror: \(digest.hex) is \(upstream.rawValue) upstream now; moved here too")
            } catch {
                ServerLog.error("mirror: cannot make \(digest.hex) \(upstream.rawValue): \(error)")
                return false
            }
        }
        if case .privateAllowed = verdict, let credential { mirror.access.grant(credential) }
        mirror.access.confirm(digest)
        return true
    }

    /// Loop thread: the answer after the upstream's verdict.
    private func afterCheck(
        _ head: HTTPRequestHead, digest: Digest, caller: Caller, mirror: Mirror, verdict: UpstreamVerdict,
        held: Visibility, asked: UpstreamCredential?, round: Int
    ) -> HTTPRequestAction {
        switch verdict {
        case .denied(let status):
            return .respond(Self.response(.denied(status, "asked with this token"), caller: caller))
        case .unreachable(let failure):
            if held == .internal, let asked {
                // A token the upstream allowed within the TTL (for another blob) still reads this pvt one.
                guard mirror.access.isGranted(asked) else { return .respond(Self.response(failure, caller: caller)) }
                return serveHeld(head, digest: digest, caller: caller, mirror: mirror, allowed: true, round: round)
            }
            return serveHeld(head, digest: digest, caller: caller, mirror: mirror, allowed: false, round: round)
        case .publicBlob, .notHeld:
            return serveHeld(head, digest: digest, caller: caller, mirror: mirror, allowed: false, round: round)
        case .privateAllowed:
            return serveHeld(head, digest: digest, caller: caller, mirror: mirror, allowed: true, round: round)
        case .privateBlob:
            // Not public (any more): a requester with a token is asked about with it next.
            guard UpstreamCredential(head, caller: caller) != nil else {
                return serveHeld(head, digest: digest, caller: caller, mirror: mirror, allowed: false, round: round)
            }
            return serveHeld(head, digest: digest, caller: caller, mirror: mirror, allowed: nil, round: round + 1)
        }
    }

    /// Opens the held blob again (it may have moved) and answers; `allowed`: the upstream just allowed the token
    /// (nil: decide again, as for a new request).
    private func serveHeld(
        _ head: HTTPRequestHead, digest: Digest, caller: Caller, mirror: Mirror, allowed: Bool?,
        round: Int
    ) -> HTTPRequestAction {
        let blob: OpenBlob
        do {
            guard let found = try context.store.openForReading(digest, known: nil) else {
                return getFromUpstream(head, digest: digest, caller: caller, mirror: mirror, round: round + 1)
            }
            blob = found
        } catch {
            return .respond(APIFailure.response(for: error, "opening \(digest.hex)", user: caller.user))
        }
        guard let allowed else {
            return getHeld(head, digest: digest, blob: blob, caller: caller, mirror: mirror, round: round)
        }
        return .respond(answer(head, digest: digest, blob: blob, caller: caller, allowed: allowed))
    }
}
