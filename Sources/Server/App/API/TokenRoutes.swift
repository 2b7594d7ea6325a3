import HTTPServer
import Shared
import Storage

/// `GET /auth/whoami` for any token, and token management for `manage` tokens: `GET /tokens`, `POST /tokens`,
/// `DELETE /tokens/<id>`. The offline `tooltool-server token` command does the same on the server machine.
///
/// Secrets are made and hashed exactly as `token create` does (`MetadataIndex.createToken`): the new token is in the
/// `POST` answer once and only its SHA-256 is stored; nothing here ever returns a secret or a hash again.
struct TokenRoutes: Sendable {
    let api: APIRoutes
    var context: ServerContext { api.context }

    /// `GET /auth/whoami`: `{"result": {"id", "user", "permissions"}}` for the caller's own token; 401 without one.
    func whoami(caller: Caller) -> HTTPRequestAction {
        guard case .token(let id, let user, let permissions) = caller else {
            return .respond(Authorization.unauthorized("whoami needs a token"))
        }
        return .respond(
            APIResponse.result(
                [
                    "id": .int(id),
                    "user": .string(user),
                    "permissions": .array(permissions.sorted().map { .string($0.rawValue) })
                ], user: user))
    }

    /// `GET /tokens`: every token, oldest first, as TOKEN objects (never a secret).
    func list(caller: Caller) -> HTTPRequestAction {
        if let refusal = Authorization.require(.manage, caller) { return .respond(refusal) }
        let context = self.context
        return api.later(caller, "listing tokens") {
            APIResponse.result(.array(try context.index.listTokens().map(TokenJSON.token)))
        }
    }

    /// `POST /tokens` with `{"user": NAME, "permissions": [P, ...]}`: 200 with the TOKEN and its `token`, shown
    /// this once. Permissions are checked from the head, before the body is read.
    func create(_ head: HTTPRequestHead, caller: Caller) -> HTTPRequestAction {
        if let refusal = Authorization.require(.manage, caller) {
            return .respond(UploadBatchRoutes.closing(refusal, head))
        }
        let context = self.context
        return api.withJSONBody(head, caller, "creating a token") { document in
            let request = try TokenRequest(document)
            let (id, secret) = try context.index.createToken(user: request.user, permissions: request.permissions)
            guard let info = try context.index.listTokens().first(where: { $0.id == id }) else {
                throw APIFailure.notFound("token \(id) vanished right after it was made")
            }
            ServerLog.info("token \(id) for \(request.user) created by \(caller.user ?? "-")")
            guard case .object(var members) = TokenJSON.token(info) else {
                return APIResponse.result(TokenJSON.token(info))
            }
            members.append(("token", .string(secret)))
            return APIResponse.result(.object(members))
        }
    }

    /// `DELETE /tokens/<id>`: revokes it and answers with the TOKEN (its `revoked` set); 404 for an unknown id.
    /// The server refuses the token from the next request on (the authenticator's cache is told at once).
    func revoke(id: Int64, caller: Caller) -> HTTPRequestAction {
        if let refusal = Authorization.require(.manage, caller) { return .respond(refusal) }
        let context = self.context
        return api.later(caller, "revoking token \(id)") {
            try context.index.revokeToken(id: id)
            context.authenticator.tokensChanged()
            guard let info = try context.index.listTokens().first(where: { $0.id == id }) else {
                throw APIFailure.notFound("no token with id \(id)")
            }
            ServerLog.info("token \(id) revoked by \(caller.user ?? "-")")
            return APIResponse.result(TokenJSON.token(info))
        }
    }
}
