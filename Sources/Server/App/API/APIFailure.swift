import HTTPServer
import Shared
import Storage

/// A refusal: the status, the shared error body's name and description, and extra headers.
///
/// Route code throws it from anywhere (body parsing, validation, worker jobs); `APIFailure.response(for:)` turns it,
/// and the storage layers' own errors (by the one table in `APIFailure+Errors.swift`), into the one JSON error shape.
struct APIFailure: Error, Sendable {
    /// HTTP status, e.g. `.badRequest`.
    let status: HTTPStatus
    /// The error body's `error.name`.
    let name: APIErrorName
    /// The error body's `error.description`: what was expected and what was got.
    let description: String
    /// Extra response headers (e.g. `X-Retry-After`).
    var headers: [(String, String)] = []
    /// Close the connection after the answer whatever the route asks (a body left unread).
    var closesConnection = false

    /// 400 with `name`.
    static func badRequest(_ name: APIErrorName, _ description: String) -> APIFailure {
        APIFailure(status: .badRequest, name: name, description: description)
    }

    /// 404 `NotFound`.
    static func notFound(_ description: String) -> APIFailure {
        APIFailure(status: .notFound, name: .notFound, description: description)
    }

    /// 503 `IndexUnavailable` with `Retry-After`: the database cannot be reached right now.
    static let indexUnavailable = APIFailure(
        status: .serviceUnavailable, name: .indexUnavailable,
        description: "the metadata index cannot be reached right now; try again shortly",
        headers: [("Retry-After", String(retryAfterSeconds))])

    /// 503 `StorageUnavailable` with `Retry-After`: the blob store (an S3 endpoint) does not answer right now.
    static let storageUnavailable = APIFailure(
        status: .serviceUnavailable, name: .storageUnavailable,
        description: "the blob store is not answering; try again later",
        headers: [("Retry-After", String(retryAfterSeconds))])

    /// What `Retry-After` says when the index or the blob store is down.
    static let retryAfterSeconds = 5

    /// The answer for this failure (`close`: close the connection after it, for a refused body).
    func response(user: String?, close: Bool = false) -> HTTPResponse {
        APIResponse.error(status, name, description, close: close || closesConnection, headers: headers, user: user)
    }

    init(
        status: HTTPStatus, name: APIErrorName, description: String, headers: [(String, String)] = [],
        closesConnection: Bool = false
    ) {
        self.status = status
        self.name = name
        self.description = description
        self.headers = headers
        self.closesConnection = closesConnection
    }
}
