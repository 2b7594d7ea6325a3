import FoundationEssentials
import HTTPServer
import Shared

/// The admin and uploader web page: `GET /` redirects to `/ui/`, `/ui/` is `index.html`, `/ui/<path>` the files
/// of the repository's `ui/` folder as compiled in. Everything else the page does goes through the JSON API with
/// the token it keeps in `sessionStorage`, so these routes need no credentials and set no cookies.
///
/// Every answer carries `securityHeaders`. Files are revalidated on each load (`Cache-Control: no-cache`) against
/// their `ETag`, so a new server version is picked up at once and an unchanged file costs a 304.
struct UIRoutes: Sendable {
    /// Only the server's own scripts, styles and images; no inline script or style, no framing, no plugins.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// The headers on every web-page answer (also redirects and 404s).
    static let securityHeaders: [(String, String)] = [
        ("Content-Security-Policy", contentSecurityPolicy),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY")
    ]

    /// The answer for a path under `/ui` or `/`, or nil when the path is not the page's.
    func route(_ head: HTTPRequestHead) -> HTTPRequestAction? {
        let path = head.path
        if path == "/" || path == "/ui" { return ServerHandler.only([.get, .head], head) { .respond(redirect()) } }
        guard path.hasPrefix("/ui/") else { return nil }
        let name = path == "/ui/" ? "index.html" : String(path.dropFirst("/ui/".count))
        return ServerHandler.only([.get, .head], head) { .respond(file(name, head)) }
    }

    /// 302 to `/ui/`.
    private func redirect() -> HTTPResponse {
        var response = HTTPResponse(status: .found, headers: HTTPHeaders(Self.securityHeaders))
        response.headers.add("Location", "/ui/")
        return response
    }

    /// The file, 304 when `If-None-Match` names its ETag, or 404.
    private func file(_ name: String, _ head: HTTPRequestHead) -> HTTPResponse {
        guard let asset = UIAssets.files[name] else {
            var response = APIResponse.error(
                .notFound, .notFound, "no such page file", close: head.contentLength ?? 0 > 0)
            for (header, value) in Self.securityHeaders { response.headers.add(header, value) }
            return response
        }
        var headers = HTTPHeaders(Self.securityHeaders)
        headers.add("ETag", asset.etag)
        headers.add("Cache-Control", "no-cache")
        if let match = head.headers["If-None-Match"],
            match.split(separator: ",").contains(where: { $0.trimmingWhitespace() == asset.etag })
        {
            return HTTPResponse(status: .notModified, headers: headers)
        }
        headers.add("Content-Type", asset.contentType)
        return HTTPResponse(status: .ok, headers: headers, body: .bytes(asset.bytes))
    }
}
