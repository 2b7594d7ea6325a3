import Shared

/// One try at getting a file from one server: a GET (with `Range` when the temp file already holds bytes) whose
/// body is hashed as it is written.
struct ServerDownload {
    /// The server's base URL.
    let baseURL: String
    /// The bearer token; libcurl keeps it from following a redirect to another host.
    let token: String?

    /// What one attempt came to.
    enum Outcome {
        /// The file is whole and verified.
        case success
        /// Worth another try later (no connection, timeout, cut body, 408, 429, 5xx); `retryAfter` in seconds.
        case retryable(ClientError, retryAfter: Int?)
        /// This server will not give us this file (4xx, wrong size or bytes, a TLS certificate or handshake failure):
        /// try the others only.
        case permanent(ClientError)
    }

    /// Makes one attempt, resuming from `file.written` bytes (any server may serve the rest: the content is named by
    /// its digest, and a resumed body is used only on a 206 with the matching `Content-Range`).
    func attempt(_ file: DownloadFile, easy: CurlEasy) throws(ClientError) -> Outcome {
        file.beginAttempt()
        var request = HTTPRequest(url: ServerAPI.url(base: baseURL, path: Routes.blob(file.record.digest)))
        request.bearerToken = token
        request.rangeStart = file.written
        if file.written > 0 { Log.debug("\(file.record.filename): resuming at byte \(file.written) from \(baseURL)") }
        switch try easy.perform(request, sink: file) {
        case .failure(let failure):
            let error = ClientError(.network, failure.message)
            if failure.kind == .aborted && file.abortIsMismatch {
                file.reset()
                return .permanent(error)
            }
            // A certificate that does not verify, an unreadable CA file, a port that speaks no TLS we accept: the
            // same again on every try, so this server leaves play for the file at once (the next --url is asked).
            if !failure.kind.isRetryable { return .permanent(error) }
            return .retryable(error, retryAfter: nil)
        case .success(let response):
            switch response.status {
            case 200, 206:
                if let size = file.record.size, file.written < size {
                    return .retryable(
                        ClientError(.network, "short body: got \(file.written) of \(size) bytes"),
                        retryAfter: nil)
                }
                switch file.finish() {
                case .success: return .success
                case .failure(let error):
                    file.reset()
                    if response.status == 206, request.rangeStart > 0 {
                        // The first bytes came from an earlier attempt, perhaps from another server (a mirror that
                        // cut a wrong body short before its last byte): they, not this server, may be what is
                        // wrong. Ask this server once more for the whole file before giving up on it.
                        Log.warning(
                            "\(file.record.filename): resumed bytes did not verify (\(error.message)); fetching it whole from \(baseURL)"
                        )
                        return try attempt(file, easy: easy)
                    }
                    return .permanent(error)
                }
            case 408, 429, 500...599:
                return .retryable(
                    httpError(response, file), retryAfter: RetryPolicy.parseRetryAfter(response.header("Retry-After")))
            default:
                return .permanent(httpError(response, file))
            }
        }
    }

    private func httpError(_ response: HTTPResponse, _ file: DownloadFile) -> ClientError {
        var message = "HTTP \(response.status)"
        if let error = APIError(body: file.errorBody) { message += ": \(error.description)" }
        return ClientError(.network, message)
    }
}
