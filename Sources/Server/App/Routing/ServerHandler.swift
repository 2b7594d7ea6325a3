import HTTPServer
import Shared

/// The server's routes: it reads the request head, authenticates the caller and hands off to one route (the web
/// page's files under `/ui/` are served before authentication: they are the same for everyone).
///
/// Runs on event-loop threads and must not block: blob GETs are one `open`; anything touching SQLite or fsync is
/// answered later from the worker queue, and a token the authenticator's cache cannot vouch for is looked up there
/// while its request waits (`.decideLater`).
struct ServerHandler: HTTPHandler {
    let context: ServerContext
    private let blobs: BlobRoutes
    private let ops: OpsRoutes
    private let api: APIRoutes
    private let ui = UIRoutes()

    init(context: ServerContext) {
        self.context = context
        blobs = BlobRoutes(context: context)
        ops = OpsRoutes(context: context)
        api = APIRoutes(context: context)
    }

    func handle(_ head: HTTPRequestHead) -> HTTPRequestAction {
        let path = head.path
        // A mirror leaves uploads, the JSON API and the web page to its upstream, before any auth of its own.
        if let mirror = context.mirror,
            let action = MirrorRedirect.action(
                for: head, mirror: mirror, jsonLimit: context.configuration.maxJSONBodySize)
        {
            return action
        }
        // The web page's own files need no credentials (the page sends its token only to the API).
        if path == "/" || path.hasPrefix("/ui"), let action = ui.route(head) { return action }
        switch context.authenticator.resolve(authorization: head.headers["Authorization"]) {
        case .caller(let caller):
            return route(head, caller: caller)
        case .needsIndex(let token):
            let authenticator = context.authenticator, worker = context.worker
            return .decideLater { decider in
                worker.async {
                    let caller = authenticator.caller(token: token)
                    decider.decide { self.route(head, caller: caller) }
                }
            }
        }
    }

    /// Routes a request whose caller is known.
    private func route(_ head: HTTPRequestHead, caller: Caller) -> HTTPRequestAction {
        let path = head.path
        var caller = caller
        if case .invalid = caller, context.mirror != nil, path.hasPrefix("/sha512/") {
            // A mirror does not know its upstream's tokens: a blob read with one is an anonymous read here (public
            // blobs need none; pvt ones are never fetched, and one stored here by hand still needs a token it knows).
            caller = .anonymous
        }
        if case .invalid(let reason) = caller {
            var response = Authorization.unauthorized(reason)
            response.closeConnection = head.contentLength ?? 0 > 0
            return .respond(response)
        }

        if path.hasPrefix("/sha512/") {
            // Dropped as UTF-8 bytes: `dropFirst` on the `String` walked grapheme clusters (500 instructions).
            return blobRoute(head, digestText: Substring(path.utf8.dropFirst("/sha512/".utf8.count)), caller: caller)
        }
        switch path {
        case "/__lbheartbeat__":
            return Self.only([.get, .head], head) { .respond(APIResponse.json(["status": "ok"])) }
        case "/__heartbeat__":
            return Self.only([.get, .head], head) { .respondLater(ops.heartbeat) }
        case "/__version__":
            return Self.only([.get, .head], head) { .respond(ops.versionInfo()) }
        case "/metrics":
            return Self.only([.get, .head], head) { .respondLater(ops.metrics) }
        default:
            if let action = api.route(head, caller: caller) { return action }
            return .respond(
                APIResponse.error(
                    .notFound, .notFound, "no such route", close: head.contentLength ?? 0 > 0,
                    user: caller.user))
        }
    }

    private func blobRoute(_ head: HTTPRequestHead, digestText: Substring, caller: Caller) -> HTTPRequestAction {
        let digest: Digest
        do {
            digest = try Digest(parsing: digestText)
        } catch {
            return .respond(
                APIResponse.error(
                    .badRequest, .badDigest, error.description, close: head.contentLength ?? 0 > 0,
                    user: caller.user))
        }
        switch head.method {
        case .get, .head: return blobs.get(head, digest: digest, caller: caller)
        case .put: return blobs.put(head, digest: digest, caller: caller)
        default: return .respond(Self.methodNotAllowed([.get, .head, .put], head))
        }
    }

    /// Runs `action` when the method is one of `methods`, else 405 with `Allow`.
    static func only(
        _ methods: [HTTPMethod], _ head: HTTPRequestHead, _ action: () -> HTTPRequestAction
    ) -> HTTPRequestAction {
        methods.contains(head.method) ? action() : .respond(Self.methodNotAllowed(methods, head))
    }

    /// 405 with the `Allow` header listing what the route takes.
    static func methodNotAllowed(_ methods: [HTTPMethod], _ head: HTTPRequestHead) -> HTTPResponse {
        let allowed = methods.map(\.name).joined(separator: ", ")
        return APIResponse.error(
            .methodNotAllowed, .methodNotAllowed, "\(head.method) is not allowed here; use \(allowed)",
            close: head.contentLength ?? 0 > 0, headers: [("Allow", allowed)])
    }
}
