import HTTPServer
import Shared

/// tooltool's upload-batch and file API (`/upload...`, `/file...`) and token management (`/auth/whoami`,
/// `/tokens...`). Picks the route for a path and method; the routes themselves live in `UploadBatchRoutes`,
/// `FileRoutes` and `TokenRoutes`.
///
/// Runs on event-loop threads: it only looks at the head and the caller. Every SQLite or filesystem call is made on
/// `context.worker` (see `APIRoutes+Worker.swift`).
struct APIRoutes: Sendable {
    let context: ServerContext

    /// The action for an API path, or nil when the path is not an API route (the router then answers 404).
    func route(_ head: HTTPRequestHead, caller: Caller) -> HTTPRequestAction? {
        let uploads = UploadBatchRoutes(api: self)
        let files = FileRoutes(api: self)
        let tokens = TokenRoutes(api: self)
        let parts = head.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        switch Array(parts) {
        case ["upload"]:
            return ServerHandler.only([.get, .head, .post], head) {
                head.method == .post ? uploads.create(head, caller: caller) : uploads.search(head, caller: caller)
            }
        case ["auth", "whoami"]:
            return ServerHandler.only([.get, .head], head) { tokens.whoami(caller: caller) }
        case ["tokens"]:
            return ServerHandler.only([.get, .head, .post], head) {
                head.method == .post ? tokens.create(head, caller: caller) : tokens.list(caller: caller)
            }
        case let p where p.count == 2 && p[0] == "tokens":
            guard let id = Self.batchID(p[1]) else { return nil }
            return ServerHandler.only([.delete], head) { tokens.revoke(id: id, caller: caller) }
        case ["file"]:
            return ServerHandler.only([.get, .head], head) { files.search(head, caller: caller) }
        case let p where p.count == 4 && p[0] == "upload" && p[1] == "complete" && p[2] == "sha512":
            return ServerHandler.only([.get], head) {
                withDigest(p[3], head, caller) { uploads.complete(digest: $0, caller: caller) }
            }
        case let p where p.count == 3 && p[0] == "file" && p[1] == "sha512":
            return ServerHandler.only([.get, .head, .patch], head) {
                withDigest(p[2], head, caller) { digest in
                    head.method == .patch
                        ? files.patch(head, digest: digest, caller: caller)
                        : files.get(digest: digest, caller: caller)
                }
            }
        case let p where (p.count == 2 || (p.count == 3 && p[2] == "manifest")) && p[0] == "upload":
            guard let id = Self.batchID(p[1]) else { return nil }
            let manifest = p.count == 3
            return ServerHandler.only([.get, .head], head) {
                manifest ? uploads.manifest(id: id, caller: caller) : uploads.get(id: id, caller: caller)
            }
        default:
            return nil
        }
    }

    /// Parses the digest of a path, or answers 400 `BadDigest`.
    private func withDigest(
        _ text: Substring, _ head: HTTPRequestHead, _ caller: Caller,
        _ action: (Digest) -> HTTPRequestAction
    ) -> HTTPRequestAction {
        do {
            return action(try Digest(parsing: text))
        } catch {
            return .respond(
                APIResponse.error(
                    .badRequest, .badDigest, error.description, close: head.contentLength ?? 0 > 0,
                    user: caller.user))
        }
    }

    /// A batch id from a path segment: 1 to 18 ASCII digits (so it fits an Int64), else nil.
    static func batchID(_ text: Substring) -> Int64? {
        guard (1...18).contains(text.utf8.count), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            return nil
        }
        return Int64(text)
    }
}
