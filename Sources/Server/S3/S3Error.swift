/// Why an S3 request failed.
public enum S3Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// The service answered with an error status; `code` and `message` from its XML body when it had one.
    case service(status: Int, code: String, message: String)
    /// The request never got a whole answer: connect, reset, timeout, stall (libcurl's code and message).
    case transport(code: Int, message: String)
    /// The answer could not be understood.
    case invalidResponse(String)
    /// The client's settings are wrong (credentials, endpoint).
    case configuration(String)
    /// The request was cancelled by its caller.
    case cancelled

    /// 404 (NoSuchKey, NoSuchUpload, NoSuchBucket).
    public var isNotFound: Bool {
        if case .service(let status, _, _) = self { return status == 404 }
        return false
    }

    /// 412: a condition such as `If-None-Match: *` did not hold.
    public var isPreconditionFailed: Bool {
        if case .service(let status, _, _) = self { return status == 412 }
        return false
    }

    /// Worth another try after a pause: 500, 502, 503, 504, throttling, a conditional write that raced another
    /// (409 ConditionalRequestConflict, which AWS says to retry), and transport failures.
    public var isRetryable: Bool {
        switch self {
        case .service(let status, let code, _):
            return [500, 502, 503, 504].contains(status) || code == "SlowDown" || code == "RequestTimeout"
                || code == "InternalError" || code == "RequestTimeTooSkewed" || code == "ConditionalRequestConflict"
        case .transport: return true
        case .invalidResponse, .configuration, .cancelled: return false
        }
    }

    public var description: String {
        switch self {
        case .service(let status, let code, let message):
            return "S3 answered \(status)\(code.isEmpty ? "" : " \(code)")\(message.isEmpty ? "" : ": \(message)")"
        case .transport(let code, let message): return "S3 request failed: \(message) (curl \(code))"
        case .invalidResponse(let detail): return "S3 answer not understood: \(detail)"
        case .configuration(let detail): return detail
        case .cancelled: return "S3 request cancelled"
        }
    }
}
