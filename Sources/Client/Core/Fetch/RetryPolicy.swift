#if canImport(Glibc)
import Glibc
#endif

/// How many times to retry a server and how long to wait in between: exponential backoff with jitter,
/// never shorter than a server's `Retry-After`.
struct RetryPolicy: Sendable {
    /// Retries after the first attempt.
    let retries: Int
    /// Delay before the first retry, in milliseconds; doubles each time.
    let baseMilliseconds: Int
    /// Longest backoff (before `Retry-After`), in milliseconds.
    let maximumMilliseconds = 60_000
    /// Longest `Retry-After` honoured, in seconds.
    static let maximumRetryAfter = 300

    /// The wait before retry number `retry` (1-based): base * 2^(retry-1), jittered to between half and all of it,
    /// and at least `retryAfter` seconds when the server asked for that.
    func delayMilliseconds(retry: Int, retryAfter: Int?) -> Int {
        let exponent = min(max(retry - 1, 0), 20)
        let full = min(maximumMilliseconds, baseMilliseconds << exponent)
        let jittered = full <= 1 ? full : Int.random(in: (full / 2)...full)
        guard let retryAfter else { return jittered }
        return max(jittered, min(retryAfter, RetryPolicy.maximumRetryAfter) * 1000)
    }

    /// Parses a `Retry-After` (or `X-Retry-After`) value given in seconds; HTTP dates are ignored.
    static func parseRetryAfter(_ value: String?) -> Int? {
        guard let value, let seconds = Int(value.trimmingWhitespace()), seconds >= 0 else { return nil }
        return seconds
    }

    /// Sleeps the calling thread for `milliseconds`.
    static func sleep(milliseconds: Int) {
        Timestamp.sleep(nanoseconds: Int64(milliseconds) * 1_000_000)
    }
}
