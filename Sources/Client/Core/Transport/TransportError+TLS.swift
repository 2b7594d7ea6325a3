extension TransportError {
    /// The message for a TLS failure: which server, what failed (libcurl's words), and the likely fix.
    ///
    /// `server` is the URL's scheme, host and port only (a signed upload URL's query never appears); `trust` is the
    /// CA file in use, nil for the system's store.
    static func tlsMessage(_ kind: Kind, curlMessage: String, server: String, trust: CABundle?) -> String {
        let trusted =
            trust.map { "trusting \($0.described)" }
            ?? "trusting the system's CA store; a private CA needs --cacert FILE or SSL_CERT_FILE"
        switch kind {
        case .caFile:
            let file = trust.map { "the CA file \($0.described)" } ?? "the system's CA store"
            return "cannot use \(file) for \(server): \(curlMessage)"
        case .tlsHandshake:
            let plain = curlMessage.contains("wrong version number") || curlMessage.contains("packet length too long")
            let hint =
                plain ? "does that port speak https, or plain http?" : "no TLS version or cipher suite in common?"
            return "TLS handshake with \(server) failed: \(curlMessage) (\(hint))"
        default:
            let hint: String
            if curlMessage.contains("host name") {
                hint = "the certificate is not issued for this host name: use one it names in --url"
            } else if curlMessage.contains("expired") {
                hint = "the server's certificate (or one in its chain) has expired"
            } else {
                hint = "is --cacert right? \(trusted)"
            }
            return "certificate verify failed for \(server): \(curlMessage) (\(hint))"
        }
    }

    /// `scheme://host[:port]` of an absolute URL: no user information, path or query.
    static func origin(of url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        return String(url[..<schemeEnd.upperBound]) + authority
    }
}
