import HTTPServer
import Shared

/// What a requester of a blob the mirror does not hold is told once the upstream answered.
enum MirrorOutcome: Sendable {
    /// The blob is stored here now (it landed while the request was on its way): serve it as usual.
    case stored
    /// The blob is arriving from the upstream into `fill`; its size and visibility (as the upstream said) are
    /// known, its bytes are read as they come.
    case arriving(MirrorFill, size: Int64, visibility: Visibility)
    /// No upstream gave the blob, asked with `askedWith` (the token of whoever started the transfer, or none).
    case failed(MirrorFailure, askedWith: UpstreamCredential?)
}

/// Why a miss could not be served, as the requester sees it: a status and the shared JSON error body.
struct MirrorFailure: Sendable, Error {
    let status: HTTPStatus
    let name: APIErrorName
    let description: String

    /// True for the upstream's refusal of the token it was asked with (or of no token): another requester's token
    /// may be allowed.
    var isDenial: Bool { name == .unauthorized || name == .forbidden }

    /// The upstream refused the blob to the token it was asked with (401, 403, or 404 for a blob it no longer
    /// holds), as it would refuse the requester.
    static func denied(_ status: HTTPStatus, _ detail: String) -> MirrorFailure {
        let name: APIErrorName = status == .forbidden ? .forbidden : status == .notFound ? .notFound : .unauthorized
        return MirrorFailure(
            status: status, name: name,
            description: "the upstream refused this blob to the token given (or to no token): \(detail)")
    }

    /// Every upstream said it has no such blob.
    static func notFound(_ digest: String) -> MirrorFailure {
        MirrorFailure(status: .notFound, name: .notFound, description: "no blob with digest \(digest) here or upstream")
    }

    /// The upstreams could not be reached, or answered with an error.
    static func badGateway(_ detail: String) -> MirrorFailure {
        MirrorFailure(status: .badGateway, name: .badGateway, description: "the upstream failed: \(detail)")
    }

    /// The upstreams did not answer in time.
    static func gatewayTimeout(_ detail: String) -> MirrorFailure {
        MirrorFailure(
            status: .gatewayTimeout, name: .gatewayTimeout,
            description: "the upstream did not answer in time: \(detail)")
    }

    /// The blob arrived but could not be kept (disk full, a failed write).
    static func storage(_ detail: String) -> MirrorFailure {
        MirrorFailure(
            status: .internalServerError, name: .internalServerError, description: "the blob could not be stored")
    }
}

/// How one upstream transfer ended, for `/metrics` (`tooltool_mirror_fetches_total{outcome}`) and the log.
enum MirrorFetchOutcome: String, Sendable, CaseIterable {
    /// The blob came whole, matched its digest and is kept.
    case verified
    /// The bytes hashed to another digest (or another size); nothing kept.
    case mismatch
    /// The body stopped before its end (the upstream closed, reset or stalled); nothing kept.
    case cut
    /// The upstream answered 404.
    case notFound = "not_found"
    /// The upstream answered 401 or 403: a pvt blob asked without a token, or with one it refused.
    case denied
    /// No connection, or an error status before any byte.
    case unreachable
    /// The connect timeout or the stall limit ran out before any byte.
    case timeout
    /// The blob could not be written here.
    case storageError = "storage_error"
}
