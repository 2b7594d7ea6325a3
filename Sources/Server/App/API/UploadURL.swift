import Shared

/// Builds the absolute, signed `put_url` of a batch file:
/// `BASE/sha512/<digest>?visibility=V&expires=UNIX&signature=HEX`.
///
/// BASE is `--public-url` when set, else `https://` (a request over TLS) or `http://` and the request's `Host`. It always carries an explicit port
/// (tooltool.py assumes 443 when a URL has none), so `https://example.com` becomes `https://example.com:443` and a
/// `Host` without a port means port 443 over TLS, 80 otherwise.
struct UploadURL: Sendable {
    /// The base URL with its port, without a trailing slash.
    let base: String

    /// The base for a request with `host` (its `Host` header), over TLS when `secure`, on a server with `publicURL`;
    /// 400 when neither gives one.
    init(publicURL: String?, host: String?, secure: Bool = false) throws(APIFailure) {
        if let publicURL {
            guard let base = Self.withExplicitPort(publicURL) else {
                throw APIFailure(
                    status: .internalServerError, name: .internalServerError,
                    description: "the server's --public-url is unusable")
            }
            self.base = base
            return
        }
        guard let host, !host.isEmpty, host.utf8.allSatisfy(Self.isHostByte) else {
            throw .badRequest(.badRequest, "upload URLs need a valid Host header (or the server's --public-url)")
        }
        guard let base = Self.withExplicitPort((secure ? "https://" : "http://") + host) else {
            throw .badRequest(.badRequest, "the Host header \(host.debugDescription) is not host[:port]")
        }
        self.base = base
    }

    /// The signed URL for a PUT of `digest` with `visibility`, good until `expires` (Unix seconds).
    func putURL(_ digest: Digest, visibility: Visibility, expires: Int64, signer: UploadSigner) -> String {
        let signature = signer.signature(digest: digest, visibility: visibility, expires: expires)
        return
            "\(base)\(Routes.blob(digest))?visibility=\(visibility.rawValue)&expires=\(expires)&signature=\(signature)"
    }

    /// `url` with the scheme's default port made explicit when it has none; nil for anything but http(s)://host...
    static func withExplicitPort(_ url: String) -> String? {
        let scheme: String, defaultPort: String
        if url.hasPrefix("http://") {
            (scheme, defaultPort) = ("http://", "80")
        } else if url.hasPrefix("https://") {
            (scheme, defaultPort) = ("https://", "443")
        } else {
            return nil
        }
        let rest = url.dropFirst(scheme.count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var path = rest[slash...]
        while path.hasSuffix("/") { path = path.dropLast() }
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        // An IPv6 literal's colons are inside the brackets; a port is a colon after the host.
        let hostEnd =
            authority.hasPrefix("[")
            ? (authority.firstIndex(of: "]").map { authority.index(after: $0) }) : authority.startIndex
        guard let hostEnd else { return nil }
        if let colon = authority[hostEnd...].lastIndex(of: ":") {
            let port = authority[authority.index(after: colon)...]
            guard !port.isEmpty, port.count <= 5, port.allSatisfy(\.isASCII), port.allSatisfy(\.isNumber),
                colon != authority.startIndex
            else { return nil }
            return scheme + authority + path
        }
        return scheme + authority + ":" + defaultPort + path
    }

    /// Letters, digits and `.-_:[]`: what a Host header may hold here (it ends up in a URL we hand out).
    private static func isHostByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "["),
            UInt8(ascii: "]"):
            return true
        default:
            return false
        }
    }
}
