import HTTPServer
import S3
import Shared

/// What the upstream said of a blob when a mirror asked it with a `HEAD` (`MirrorAccess` asked for it).
enum UpstreamVerdict: Sendable {
    /// Served, and public (`Cache-Control: public`).
    case publicBlob
    /// Served to the forwarded token, and pvt (`Cache-Control: private`).
    case privateAllowed
    /// Refused (401/403) when asked without a token: the blob is not public upstream.
    case privateBlob
    /// Refused to the forwarded token with this status (401, 403, 404): the requester gets the same.
    case denied(HTTPStatus)
    /// 404 when asked without a token: the upstreams do not hold it (it stays as it is here).
    case notHeld
    /// No upstream answered (refused, timed out, a 5xx).
    case unreachable(MirrorFailure)
}

/// A verdict's name in `/metrics` (`tooltool_mirror_checks_total{verdict}`).
enum MirrorCheckOutcome: String, Sendable, CaseIterable {
    case publicBlob = "public"
    case privateAllowed = "private_allowed"
    case privateBlob = "private"
    case denied
    case notHeld = "not_held"
    case unreachable
}

extension UpstreamVerdict {
    /// How `/metrics` counts it.
    var outcome: MirrorCheckOutcome {
        switch self {
        case .publicBlob: .publicBlob
        case .privateAllowed: .privateAllowed
        case .privateBlob: .privateBlob
        case .denied: .denied
        case .notHeld: .notHeld
        case .unreachable: .unreachable
        }
    }
}

/// One `HEAD /sha512/<digest>` sent to the upstreams in order (the next one after a transport failure or a 404),
/// with the requester's token or without; the answer comes on the fetcher's loop thread.
enum UpstreamCheck {
    /// Asks `mirror`'s upstreams about `digest`; `then` hears the verdict once (fetcher loop thread).
    /// Counted in `/metrics` before `then` hears it.
    static func run(
        _ mirror: Mirror, _ digest: Digest, credential: UpstreamCredential?,
        then: @escaping @Sendable (UpstreamVerdict) -> Void
    ) {
        ask(mirror, digest, credential: credential, attempt: 0, failures: [], timedOut: false, notFound: false) {
            verdict in
            mirror.metrics.mirrorCheck(verdict.outcome)
            if case .unreachable = verdict {
                mirror.access.noteReachable(false)
            } else {
                mirror.access.noteReachable(true)
            }
            then(verdict)
        }
    }

    private static func ask(
        _ mirror: Mirror, _ digest: Digest, credential: UpstreamCredential?, attempt: Int,
        failures: [String], timedOut: Bool, notFound: Bool, then: @escaping @Sendable (UpstreamVerdict) -> Void
    ) {
        guard attempt < mirror.upstreams.count else {
            if notFound { return then(credential == nil ? .notHeld : .denied(.notFound)) }
            let detail = failures.joined(separator: "; ")
            return then(.unreachable(timedOut ? .gatewayTimeout(detail) : .badGateway(detail)))
        }
        let upstream = mirror.upstreams[(mirror.firstUpstream + attempt) % mirror.upstreams.count]
        mirror.fetcher.head(
            "\(upstream)/sha512/\(digest.hex)", headers: credential?.headers ?? [],
            connectTimeout: mirror.connectTimeout, stallTimeout: mirror.stallTimeout
        ) { result in
            switch result {
            case .success(let answer):
                let control = answer.headers.first { $0.0 == "cache-control" }?.1 ?? ""
                let isPrivate = control.lowercased().hasPrefix("private")
                if isPrivate && credential == nil { return then(.privateBlob) }  // a server that serves pvt to anyone
                then(isPrivate ? .privateAllowed : .publicBlob)
            case .failure(.status(let status)) where status == 401 || status == 403:
                then(credential == nil ? .privateBlob : .denied(status == 401 ? .unauthorized : .forbidden))
            case .failure(.status(404)):
                ask(
                    mirror, digest, credential: credential, attempt: attempt + 1, failures: failures,
                    timedOut: timedOut,
                    notFound: true, then: then)
            case .failure(let error):
                ask(
                    mirror, digest, credential: credential, attempt: attempt + 1,
                    failures: failures + ["\(upstream): \(error)"], timedOut: timedOut || error.isTimeout,
                    notFound: notFound,
                    then: then)
            }
        }
    }
}
