import Foundation
import HTTPServer
import Shared
import Storage
import Testing

@testable import ServerApp

/// The one table from storage and index errors to answers (`APIFailure+Errors.swift`), in process: every case of
/// both error types, so a case added to either without a deliberate answer, or a changed answer, fails here.
@Suite struct ErrorAnswerTests {
    static let digest = Digest(bytes: [UInt8](repeating: 7, count: 64))

    /// (error, status code, error name, closes the connection whatever the route asked).
    static let storageCases: [(StorageError, Int, APIErrorName, Bool)] = [
        (.notFound(digest), 404, .notFound, false),
        (
            .digestMismatch(expected: digest, actual: digest, expectedSize: 1, actualSize: 2), 400, .digestMismatch,
            false
        ),
        (.tooLarge(expectedSize: 1, got: 2), 400, .sizeMismatch, true),
        (.visibilityConflict(digest, stored: .public, requested: .internal), 409, .visibilityConflict, false),
        (.inBothFolders(digest), 409, .inBothFolders, false),
        (.diskFull(call: "write", path: "/x"), 507, .insufficientStorage, false),
        (.insufficientSpace(path: "/x", needed: 10, available: 5), 507, .insufficientStorage, false),
        (.unavailable(operation: "GetObject", detail: "refused"), 503, .storageUnavailable, false),
        (.io(call: "fsync", path: "/x", errno: EIO), 500, .internalServerError, false),
        (.uploadClosed(digest), 500, .internalServerError, false),
        (.misconfigured("no bucket"), 500, .internalServerError, false)
    ]

    static let indexCases: [(IndexError, Int, APIErrorName)] = [
        (.invalid("empty message"), 400, .badRequest),
        (.sizeConflict(filename: "a", digest: digest, stored: 1, declared: 2), 400, .sizeConflict),
        (
            .visibilityConflict(filename: "a", digest: digest, stored: .public, declared: .internal), 400,
            .visibilityConflict
        ),
        (.notFound("batch 7"), 404, .notFound),
        (.unavailable("connection refused"), 503, .indexUnavailable),
        (.sqlite(call: "sqlite3_step", code: 10, message: "disk I/O error"), 500, .internalServerError),
        (.postgres(call: "PQexec", state: "XX000", message: "boom"), 500, .internalServerError),
        (.corrupt("schema 99"), 500, .internalServerError)
    ]

    @Test func everyStorageErrorHasItsAnswer() throws {
        for (error, status, name, closes) in Self.storageCases {
            let response = APIFailure.response(for: error, "testing", user: nil)
            #expect(response.status.code == status, "\(error)")
            #expect(Self.name(response) == name, "\(error)")
            #expect(response.closeConnection == closes, "\(error)")
        }
    }

    @Test func everyIndexErrorHasItsAnswer() throws {
        for (error, status, name) in Self.indexCases {
            let response = APIFailure.response(for: error, "testing", user: nil)
            #expect(response.status.code == status, "\(error)")
            #expect(Self.name(response) == name, "\(error)")
        }
    }

    @Test func aFailureAnswersAsItIsAndAnythingElseIsABare500() throws {
        let unavailable = APIFailure.response(for: APIFailure.indexUnavailable, "testing", user: "u", close: true)
        #expect(unavailable.status == .serviceUnavailable && unavailable.closeConnection && unavailable.logUser == "u")
        #expect(unavailable.headers["Retry-After"] == String(APIFailure.retryAfterSeconds))
        let other = APIFailure.response(for: CocoaError(.fileNoSuchFile), "testing", user: nil)
        #expect(other.status == .internalServerError && Self.name(other) == .internalServerError)
        #expect(Self.description(other) == "the server failed; see its log", "the cause stays in the log")
    }

    private static func body(_ response: HTTPResponse) -> APIError? {
        guard case .bytes(let bytes) = response.body else { return nil }
        return APIError(body: bytes)
    }
    private static func name(_ response: HTTPResponse) -> APIErrorName? { body(response)?.knownName }
    private static func description(_ response: HTTPResponse) -> String? { body(response)?.description }
}
