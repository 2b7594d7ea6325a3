import Shared

/// Fetches one record from one server: attempts with retries, backoff and resume, verifying as bytes arrive.
///
/// Retries: no connection, timeouts and stalls, cut connections and short bodies, 408, 429 and 5xx.
/// Given up at once (so the caller moves to the next server): other statuses, a size or digest mismatch.
struct ServerDownload {
    /// The server's base URL.
    let baseURL: String
    /// The bearer token, when there is one.
    let token: String?
    /// Retries and backoff.
    let policy: RetryPolicy

    /// The blob's URL on this server: `<base>/sha512/<digest>`.
    static func url(base: String, digest: Digest) -> String {
        var base = base
        while base.hasSuffix("/") { base.removeLast() }
        return base + Routes.blob(digest)
    }

    /// Downloads `file.record` into `file`; on success the file holds the verified bytes.
    func run(_ file: DownloadFile, easy: CurlEasy) throws(ClientError) -> Result<Void, ClientError> {
        let url = ServerDownload.url(base: baseURL, digest: file.record.digest)
        var lastError = ClientError(.network, "no attempt made")
        var retryAfter: Int?
        for attempt in 0...policy.retries {
            if attempt > 0 {
                let delay = policy.delayMilliseconds(retry: attempt, retryAfter: retryAfter)
                Log.debug("\(file.record.filename): retry \(attempt) of \(policy.retries) on \(baseURL) in \(delay) ms")
                RetryPolicy.sleep(milliseconds: delay)
            }
            retryAfter = nil
            file.beginAttempt()
            var request = HTTPRequest(url: url)
            request.bearerToken = token
            request.rangeStart = file.written
            if file.written > 0 { Log.debug("\(file.record.filename): resuming at byte \(file.written)") }
            let outcome = try easy.perform(request, sink: file)
            switch outcome {
            case .failure(let failure):
                lastError = ClientError(.network, failure.message)
                if failure.kind == .aborted && file.abortIsMismatch { return .failure(lastError) }
            case .success(let response):
                switch response.status {
                case 200, 206:
                    if file.written < file.record.size {
                        lastError = ClientError(.network, "short body: got \(file.written) of \(file.record.size) bytes")
                        continue
                    }
                    return file.finish()
                case 408, 429, 500...599:
                    lastError = httpError(response, file)
                    retryAfter = RetryPolicy.parseRetryAfter(response.header("Retry-After"))
                default:
                    return .failure(httpError(response, file))
                }
            }
            if attempt < policy.retries { Log.debug("\(file.record.filename): \(baseURL): \(lastError.message)") }
        }
        return .failure(lastError)
    }

    private func httpError(_ response: HTTPResponse, _ file: DownloadFile) -> ClientError {
        var message = "HTTP \(response.status)"
        if let error = APIError(body: file.errorBody) { message += ": \(error.description)" }
        return ClientError(.network, message)
    }
}
