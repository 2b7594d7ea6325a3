/// Every `error.name` this project's server sends in the shared error body (`APIError`), in one place for the
/// server, the client and the tests. The raw value is the name on the wire.
public enum APIErrorName: String, Sendable, CaseIterable, Codable {
    // The request itself (400 unless noted).
    /// Malformed in a way no narrower name covers (query string, JSON field, header, request line).
    case badRequest = "BadRequest"
    /// The body is not JSON.
    case badJSON = "BadJSON"
    /// A digest that is not 128 lowercase hex characters.
    case badDigest = "BadDigest"
    /// A hash algorithm other than `sha512`.
    case badAlgorithm = "BadAlgorithm"
    /// A batch filename with a path or a forbidden character.
    case badFilename = "BadFilename"
    /// A PATCH operation the file API does not know.
    case badOperation = "BadOperation"
    /// A permission name the server does not know.
    case badPermission = "BadPermission"
    /// A malformed `Range`, or more than one.
    case badRange = "BadRange"
    /// A visibility other than `public` or `internal`.
    case badVisibility = "BadVisibility"
    /// 403: an upload URL whose signature does not match.
    case badSignature = "BadSignature"
    /// 403: an upload URL past its expiry.
    case signatureExpired = "SignatureExpired"
    /// 401: no credentials, or a token that is unknown or revoked.
    case unauthorized = "Unauthorized"
    /// 403: a token without the permission the route needs.
    case forbidden = "Forbidden"
    /// 404: no such route, blob, batch or token.
    case notFound = "NotFound"
    /// 405: a known route with another method.
    case methodNotAllowed = "MethodNotAllowed"
    /// 408: the request head took too long.
    case requestTimeout = "RequestTimeout"
    /// 411: a PUT without `Content-Length`, or with `Transfer-Encoding`.
    case lengthRequired = "LengthRequired"
    /// 413: a body over the server's limit for the route.
    case contentTooLarge = "ContentTooLarge"
    /// 414: a request-target over the limit.
    case uriTooLong = "URITooLong"
    /// 416: no requested range lies within the blob.
    case rangeNotSatisfiable = "RangeNotSatisfiable"
    /// 431: too many header fields, or too many bytes of them.
    case requestHeaderFieldsTooLarge = "RequestHeaderFieldsTooLarge"

    // What the store holds.
    /// The uploaded bytes hash to another digest than their name.
    case digestMismatch = "DigestMismatch"
    /// More bytes arrived than the upload declared.
    case sizeMismatch = "SizeMismatch"
    /// A batch declares another size than the stored file's.
    case sizeConflict = "SizeConflict"
    /// The blob is stored with the other visibility.
    case visibilityConflict = "VisibilityConflict"
    /// 409: the blob sits in both `public/` and `pvt/`; `fsck --repair` settles it.
    case inBothFolders = "InBothFolders"
    /// 409: a PUT of the digest is still streaming.
    case uploadInProgress = "UploadInProgress"

    // The server's own state.
    /// 507: no room on the server's disk.
    case insufficientStorage = "InsufficientStorage"
    /// 500: the server failed; the cause is in its log.
    case internalServerError = "InternalServerError"
    /// 503: the connection cap is reached.
    case serviceUnavailable = "ServiceUnavailable"
    /// 503: the metadata index cannot be reached right now.
    case indexUnavailable = "IndexUnavailable"
    /// 503: the blob store (an S3 endpoint) does not answer right now.
    case storageUnavailable = "StorageUnavailable"
    /// 503 from `/__heartbeat__`: the store or the index is not well.
    case unhealthy = "Unhealthy"

    // A mirror's upstreams.
    /// 502: no upstream gave the blob (refused, reset, an error status).
    case badGateway = "BadGateway"
    /// 504: no upstream answered in time.
    case gatewayTimeout = "GatewayTimeout"
}
