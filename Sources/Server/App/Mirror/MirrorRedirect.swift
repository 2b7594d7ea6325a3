import HTTPServer

/// What a mirror leaves to its upstream: everything but blob reads and its own ops endpoints. The JSON API
/// (`/upload...`, `/file...`, `/tokens...`, `/auth/whoami`) is proxied (`MirrorProxy`); blob PUTs and the web page
/// are answered `307 Temporary Redirect` to the same target on the upstream that transfers ask first.
///
/// Why the split: tooltool clients do not follow a redirect of a POST with their token (Mozilla's tooltool.py uses
/// urllib, which does not follow a 307 for a POST at all; ours drops `Authorization` on a redirect to another
/// origin), so `tooltool upload --url MIRROR` needs the API answered here. Its bodies are small JSON (bounded like
/// the server's own JSON bodies, 1 MiB); the blob PUTs go straight to the upstream's signed `put_url`s, never
/// through the mirror. A PUT sent to the mirror itself, and the web page (whose API calls would otherwise cross
/// origins), are still redirected.
enum MirrorRedirect {
    /// The paths a mirror answers itself besides `GET`/`HEAD /sha512/<digest>`.
    private static let ownPaths: Set<String> = ["/__heartbeat__", "/__lbheartbeat__", "/__version__", "/metrics"]

    /// The action for a request the mirror does not serve itself (a 307, or the proxy); nil for one it does.
    static func action(for head: HTTPRequestHead, mirror: Mirror, jsonLimit: Int) -> HTTPRequestAction? {
        let path = head.path
        if path.hasPrefix("/sha512/") {
            if head.method == .get || head.method == .head { return nil }
            return .respond(redirect(head, mirror: mirror))
        }
        if ownPaths.contains(path) { return nil }
        if path == "/" || path.hasPrefix("/ui") { return .respond(redirect(head, mirror: mirror)) }
        return MirrorProxy.action(for: head, mirror: mirror, limit: jsonLimit)
    }

    /// The 307 to the same target on the upstream.
    private static func redirect(_ head: HTTPRequestHead, mirror: Mirror) -> HTTPResponse {
        var response = HTTPResponse(status: .temporaryRedirect)
        response.headers.add("Location", mirror.primaryUpstream + head.target)
        response.closeConnection = head.contentLength ?? 0 > 0  // the body is not read here
        return response
    }
}
