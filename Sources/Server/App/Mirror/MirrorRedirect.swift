import HTTPServer

/// What a mirror leaves to its upstream: everything but blob reads and its own ops endpoints (uploads, the JSON API,
/// the web page) is answered `307 Temporary Redirect` to the same target on the upstream that transfers ask first.
///
/// A redirect rather than a proxy: the upstream stays the only place that writes, authorizes and signs, the mirror
/// never holds an upload's body or a caller's token, and a 307 keeps the method and body, so a client that follows
/// it sends the same request there (curl with `-L`; see the README for what tooltool's client does with its token).
enum MirrorRedirect {
    /// The paths a mirror answers itself besides `GET`/`HEAD /sha512/<digest>`.
    private static let ownPaths: Set<String> = ["/__heartbeat__", "/__lbheartbeat__", "/__version__", "/metrics"]

    /// The 307 for a request the mirror does not serve itself; nil for one it does.
    static func response(for head: HTTPRequestHead, mirror: Mirror) -> HTTPResponse? {
        let path = head.path
        if path.hasPrefix("/sha512/"), head.method == .get || head.method == .head { return nil }
        if ownPaths.contains(path) { return nil }
        var response = HTTPResponse(status: .temporaryRedirect)
        response.headers.add("Location", mirror.primaryUpstream + head.target)
        response.closeConnection = head.contentLength ?? 0 > 0  // the body is not read here
        return response
    }
}
