import HTTPServer
import Shared
import Storage

/// `POST /upload` (create a batch and hand out signed `put_url`s) and `GET /upload/complete/sha512/<digest>`.
/// The read side (`GET /upload...`) is in `UploadBatchRoutes+Read.swift`.
struct UploadBatchRoutes: Sendable {
    let api: APIRoutes
    var context: ServerContext { api.context }

    /// `POST /upload`. The token and its upload permissions are checked from the head (401/403 before the body is
    /// read: a token needs at least one `upload.*`); the body then must name only visibilities it may upload.
    func create(_ head: HTTPRequestHead, caller: Caller) -> HTTPRequestAction {
        guard case .token(_, let user, let permissions) = caller else {
            return .respond(
                Self.closing(
                    Authorization.unauthorized("uploading needs a token with upload.public or upload.internal"), head))
        }
        guard permissions.contains(.uploadPublic) || permissions.contains(.uploadInternal) else {
            return .respond(
                Self.closing(
                    APIFailure(
                        status: .forbidden, name: .forbidden,
                        description: "this token lacks the upload.public and upload.internal permissions"
                    ).response(user: user), head))
        }
        let base: UploadURL
        do {
            base = try UploadURL(
                publicURL: context.configuration.publicURL, host: head.headers["Host"],
                secure: head.isSecure)
        } catch {
            return .respond(Self.closing(error.response(user: user), head))
        }
        let context = self.context
        return api.withJSONBody(head, caller, "creating a batch") { document in
            let request = try UploadBatchRequest(document)
            for visibility in request.visibilities.sorted(by: { $0.rawValue < $1.rawValue })
            where !permissions.contains(visibility.uploadPermission) {
                throw APIFailure(
                    status: .forbidden, name: .forbidden,
                    description: "this token lacks the \(visibility.uploadPermission.rawValue) permission "
                        + "needed for \(visibility.rawValue) files")
            }
            // The store is the truth about what is stored: settle the index first so the batch is checked against it.
            let stored = Set(try context.reconcile(Array(Set(request.files.map(\.digest)))).keys)
            let batch = try context.index.createBatch(author: user, message: request.message, files: request.files)
            let expires = WallClock.now() + context.configuration.signedURLLifetime
            var putURLs: [String: String] = [:]
            for file in batch.files where !stored.contains(file.digest) {
                putURLs[file.filename] = base.putURL(
                    file.digest, visibility: file.visibility, expires: expires,
                    signer: context.signer)
            }
            ServerLog.info("batch \(batch.id) by \(user): \(batch.files.count) file(s), \(putURLs.count) to upload")
            return APIResponse.result(BatchJSON.batch(batch, putURLs: putURLs))
        }
    }

    /// `GET /upload/complete/sha512/<digest>`: 202 `{}` (uploads are verified on arrival, nothing is left to queue),
    /// or 409 with `X-Retry-After` while a PUT of that digest is still streaming and the blob is not stored yet.
    /// Needs a token.
    ///
    /// The store is asked too (one stat on the loop thread for the disk store, like a blob GET's open; a remote
    /// store from the worker queue) because a PUT's in-flight mark is dropped only after its 200 went out: a client
    /// asking right after its PUT must not be told to wait.
    func complete(digest: Digest, caller: Caller) -> HTTPRequestAction {
        guard case .token(_, let user, _) = caller else { return .respond(ReadAccess.unauthorized) }
        if context.store.isLocal {
            if context.inFlight.containsLocally(digest), (try? context.store.locate(digest)) ?? nil == nil {
                return .respond(Self.uploadInProgress(digest, context, user: user))
            }
            guard context.inFlight.isShared else {
                return .respond(APIResponse.json([:], status: .accepted, user: user))
            }
        }
        // Another server's upload counts too: ask the index, from the worker queue.
        let context = self.context
        return api.later(caller, "upload/complete \(digest.hex)") {
            if try context.inFlight.contains(digest), try context.store.locate(digest) == nil {
                return Self.uploadInProgress(digest, context, user: user)
            }
            return APIResponse.json([:], status: .accepted, user: user)
        }
    }

    /// 409 `UploadInProgress` with `X-Retry-After`.
    static func uploadInProgress(_ digest: Digest, _ context: ServerContext, user: String) -> HTTPResponse {
        let seconds = context.configuration.uploadRetryAfter
        return APIFailure(
            status: .conflict, name: .uploadInProgress,
            description: "an upload of \(digest.hex) is still in progress; ask again in \(seconds) s",
            headers: [("X-Retry-After", String(seconds))]
        ).response(user: user)
    }

    /// `response`, closing the connection when the request has a body we will not read.
    static func closing(_ response: HTTPResponse, _ head: HTTPRequestHead) -> HTTPResponse {
        var response = response
        if head.contentLength ?? 0 > 0 { response.closeConnection = true }
        return response
    }
}
