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
        guard code == CURLE_OK else {
            throw ClientError(.network, "curl_easy_setopt(\(what)) failed: \(message(code))")
        }
    }

    /// Maps a failed transfer's code (and libcurl's message, which tells a TLS protocol failure from a connection
    /// cut during the handshake) to the client's transport error kind.
    static func kind(of code: CURLcode, message: String = "") -> TransportError.Kind {
        switch code {
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CERTPROBLEM:
            return .certificate
        case CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CRL_BADFILE: return .caFile
        case CURLE_SSL_CONNECT_ERROR:
            // OpenSSL names its own protocol failures "SSL routines" (wrong version number: a plain HTTP port; no
            // shared protocol or cipher); a reset or an EOF in the handshake is a network fault like any other.
            return message.contains("SSL routines") && !message.contains("unexpected eof") ? .tlsHandshake : .broken
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .connect
        case CURLE_OPERATION_TIMEDOUT: return .timeout
        case CURLE_PARTIAL_FILE, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING: return .broken
        case CURLE_WRITE_ERROR, CURLE_ABORTED_BY_CALLBACK: return .aborted
        default: return .other
        }
    }
}
