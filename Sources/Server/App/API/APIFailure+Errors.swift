import HTTPServer
import Shared
import Storage

/// The one table from the storage layers' errors to answers (as Hummingbird's `HTTPResponseError` gives each error
/// its response): the blob routes, the API routes and the upload path all ask it, so an error gets the same answer
/// whichever route met it.
extension APIFailure {
    /// The answer for a blob-store error; nil for the server's own failures (answered with a bare 500).
    init?(_ error: StorageError) {
        switch error {
        case .notFound:
            self = .notFound(error.description)
        case .digestMismatch:
            self.init(status: .badRequest, name: .digestMismatch, description: error.description)
        case .tooLarge:
            // More bytes than the upload declared: the client's fault; the rest of its body is never read.
            self.init(status: .badRequest, name: .sizeMismatch, description: error.description, closesConnection: true)
        case .visibilityConflict:
            self.init(status: .conflict, name: .visibilityConflict, description: error.description)
        case .inBothFolders:
            // Nothing failed: the store holds a stray copy, and the description names the fix (fsck --repair).
            self.init(status: .conflict, name: .inBothFolders, description: error.description)
        case .diskFull:
            self.init(
                status: .insufficientStorage, name: .insufficientStorage,
                description: "the server's disk is full; try again later")
        case .insufficientSpace(_, let needed, _):
            self.init(
                status: .insufficientStorage, name: .insufficientStorage,
                description: "the server's disk has no room for \(needed) bytes; try again later")
        case .unavailable:
            self = .storageUnavailable
        case .io, .uploadClosed, .misconfigured:
            return nil
        }
    }

    /// The answer for an index error; nil for the server's own failures (answered with a bare 500).
    init?(_ error: IndexError) {
        switch error {
        case .invalid(let reason): self = .badRequest(.badRequest, reason)
        case .sizeConflict: self = .badRequest(.sizeConflict, error.description)
        case .visibilityConflict: self = .badRequest(.visibilityConflict, error.description)
        case .notFound(let what): self = .notFound("\(what) not found")
        case .unavailable: self = .indexUnavailable
        case .sqlite, .postgres, .corrupt: return nil
        }
    }

    /// The answer for anything a route met while doing `what` (e.g. `storing <digest>`): an `APIFailure` as it is,
    /// a storage or index error by the table above, anything else a bare 500. The cause is logged in full for a 500
    /// and for the storage and index errors an operator must act on (a full disk, a store or index that does not
    /// answer, a stray copy); never for the client's own faults.
    static func response(for error: any Error, _ what: String, user: String?, close: Bool = false) -> HTTPResponse {
        let failure: APIFailure?
        switch error {
        case let failure as APIFailure:
            return failure.response(user: user, close: close)  // the route's own refusal, already worded
        case let error as StorageError: failure = APIFailure(error)
        case let error as IndexError: failure = APIFailure(error)
        default: failure = nil
        }
        guard let failure else { return APIResponse.internalError(what, error, user: user) }
        if failure.status.code >= 500 || failure.name == .inBothFolders { ServerLog.error("\(what): \(error)") }
        return failure.response(user: user, close: close)
    }
}
