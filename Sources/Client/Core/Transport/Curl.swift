import CCurl

/// Process-wide libcurl set-up and error translation.
enum Curl {
    /// `curl_global_init`, run exactly once (a Swift `static let` initialiser runs once, thread-safely).
    private static let globalInitResult: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))

    /// Initialises libcurl once per process; throws when it cannot.
    static func initialize() throws(ClientError) {
        let code = globalInitResult
        guard code == CURLE_OK else { throw ClientError(.network, "curl_global_init failed: \(message(code))") }
    }

    /// libcurl's text for a code.
    static func message(_ code: CURLcode) -> String { String(cString: curl_easy_strerror(code)) }

    /// Throws when `curl_easy_setopt` (named by `what`) refused a value: a bug or a libcurl too old.
    static func check(_ code: CURLcode, _ what: String) throws(ClientError) {
        guard code == CURLE_OK else { throw ClientError(.network, "curl_easy_setopt(\(what)) failed: \(message(code))") }
    }

    /// Maps a failed transfer's code to the client's transport error kind.
    static func kind(of code: CURLcode) -> TransportError.Kind {
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .connect
        case CURLE_OPERATION_TIMEDOUT: return .timeout
        case CURLE_PARTIAL_FILE, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING: return .broken
        case CURLE_WRITE_ERROR, CURLE_ABORTED_BY_CALLBACK: return .aborted
        default: return .other
        }
    }
}
