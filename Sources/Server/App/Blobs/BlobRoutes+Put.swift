import FoundationEssentials
import HTTPServer
import Shared
import Storage

extension BlobRoutes {
    /// `PUT /sha512/<digest>?visibility=public|internal[&expires=..&signature=..]`: every check that the head allows
    /// happens before a body byte is read; the body then streams through the hasher into a temp file.
    func put(_ head: HTTPRequestHead, digest: Digest, caller: Caller) -> HTTPRequestAction {
        let user = caller.user
        guard let query = QueryString(head.query) else {
            return .respond(
                APIResponse.error(.badRequest, .badRequest, "the query string is malformed", close: true, user: user))
        }
        let visibilityName = query["visibility"] ?? Visibility.internal.rawValue
        guard let visibility = Visibility(name: visibilityName) else {
            return .respond(
                APIResponse.error(
                    .badRequest, .badVisibility,
                    "visibility must be public or internal, got \(visibilityName.debugDescription)",
                    close: true, user: user))
        }
        if let denial = authorizeUpload(query: query, digest: digest, visibility: visibility, caller: caller) {
            var response = denial
            response.closeConnection = true
            return .respond(response)
        }
        guard let length = head.contentLength else {
            return .respond(
                APIResponse.error(
                    .lengthRequired, .lengthRequired, "a PUT needs a Content-Length header", close: true, user: user))
        }
        let limit = context.configuration.maxUploadSize
        guard length <= limit else {
            return .respond(
                APIResponse.error(
                    .contentTooLarge, .contentTooLarge,
                    "the body has \(length) bytes; this server takes at most \(limit)",
                    close: true, user: user))
        }
        let expectsContinue = head.headers["Expect"]?.lowercased() == "100-continue"
        guard context.store.isLocal else {
            // A remote store is not asked on the loop (that would wait on the network): from the worker queue,
            // before a body byte is read, the index says whether the blob should be stored and, if so, the store
            // confirms it (the index may be stale: a blob removed by hand). A blob the index does not know costs no
            // request here; its upload checks the store itself before it publishes.
            let index = context.index, store = context.store, worker = context.worker
            return .decideLater { decider in
                worker.async {
                    let stored: StoredBlob? = {
                        guard let record = try? index.file(digest), record.hasInstances else { return nil }
                        return try? store.storedBlob(digest)
                    }()
                    decider.decide {
                        startUpload(
                            digest, visibility: visibility, length: length, stored: stored,
                            expectsContinue: expectsContinue, user: user)
                    }
                }
            }
        }
        // On the disk store, one look on the loop thread (two fstatat, cheaper than a GET's open).
        let stored: StoredBlob?
        do {
            stored = try context.store.storedBlob(digest)
        } catch {
            return .respond(APIFailure.response(for: error, "storing \(digest.hex)", user: user, close: true))
        }
        return startUpload(
            digest, visibility: visibility, length: length, stored: stored, expectsContinue: expectsContinue,
            user: user)
    }

    /// Answers at once when the blob is already `stored` (409 under the other visibility; 200 to a client waiting on
    /// `Expect: 100-continue`, sparing it the body), else streams the body into a new upload.
    ///
    /// The temp file is made here, on the loop thread (an `O_CREAT`, about 10 % of the server's CPU with small
    /// PUTs): made on the worker queue instead, small PUTs were about 25 % slower on a loaded 2-core machine (one
    /// more hop between threads per upload; branch perf-put-worker-begin, issue 17).
    private func startUpload(
        _ digest: Digest, visibility: Visibility, length: Int64, stored: StoredBlob?,
        expectsContinue: Bool, user: String?
    ) -> HTTPRequestAction {
        if let stored {
            if stored.visibility != visibility {
                return .respond(
                    APIResponse.error(
                        .conflict, .visibilityConflict,
                        "\(digest.hex) is already stored as \(stored.visibility.rawValue), not \(visibility.rawValue)",
                        close: true, user: user))
            }
            if expectsContinue {
                // The JSON describes the stored file, whatever length this request claimed.
                return .respond(
                    uploaded(digest: digest, size: stored.size, visibility: visibility, new: false, user: user))
            }
        }
        do {
            let upload = try context.store.beginUpload(digest, visibility: visibility, expectedSize: length)
            return .readBody(UploadConsumer(upload: upload, routes: self, user: user))
        } catch {
            return .respond(APIFailure.response(for: error, "storing \(digest.hex)", user: user, close: true))
        }
    }

    /// nil when the caller may upload: a valid signed URL, or a token with `upload.<visibility>`.
    private func authorizeUpload(
        query: QueryString, digest: Digest, visibility: Visibility, caller: Caller
    ) -> HTTPResponse? {
        if query["signature"] != nil || query["expires"] != nil {
            guard query.count("signature") == 1, query.count("expires") == 1, query.count("visibility") == 1,
                let signature = query["signature"], let expires = Int64(query["expires"] ?? ""),
                context.signer.verify(digest: digest, visibility: visibility, expires: expires, signature: signature)
            else {
                return APIResponse.error(
                    .forbidden, .badSignature, "the upload URL's signature does not match", user: caller.user)
            }
            guard expires >= Int64(Date().timeIntervalSince1970) else {
                return APIResponse.error(
                    .forbidden, .signatureExpired, "the upload URL expired at \(expires) (Unix time)", user: caller.user
                )
            }
            return nil
        }
        return Authorization.require(visibility.uploadPermission, caller)
    }

    /// The 200 answer to a PUT: the file's record, and whether this request stored it.
    func uploaded(digest: Digest, size: Int64, visibility: Visibility, new: Bool, user: String?) -> HTTPResponse {
        APIResponse.result(
            [
                "algorithm": .string(digest.algorithm.rawValue), "digest": .string(digest.hex), "size": .int(size),
                "visibility": .string(visibility.rawValue), "new": .bool(new)
            ], user: user)
    }
}
