import HTTPServer
import Shared
import Storage

#if canImport(Glibc)
import Glibc
#endif

/// `GET`/`HEAD /sha512/<digest>`: the hot path. On the disk store: one `open` per request on the loop thread, the
/// body by sendfile, no index. On a remote store: from the worker queue, where the index says the blob is (no
/// probing), then one request to the store, streamed through or answered with a redirect.
struct BlobRoutes: Sendable {
    let context: ServerContext

    /// Serves a blob with caching headers, `Range` and `If-None-Match`.
    func get(_ head: HTTPRequestHead, digest: Digest, caller: Caller) -> HTTPRequestAction {
        guard context.store.isLocal else { return getRemote(head, digest: digest, caller: caller) }
        let blob: OpenBlob
        do {
            guard let found = try context.store.openForReading(digest, known: nil) else {
                if let mirror = context.mirror {
                    return getFromUpstream(head, digest: digest, caller: caller, mirror: mirror)
                }
                return .respond(
                    APIResponse.error(.notFound, .notFound, "no blob with digest \(digest.hex)", user: caller.user))
            }
            blob = found
            context.mirror?.cache.touch(digest)
        } catch {
            return .respond(APIFailure.response(for: error, "opening \(digest.hex)", user: caller.user))
        }
        if let mirror = context.mirror {
            return getHeld(head, digest: digest, blob: blob, caller: caller, mirror: mirror)
        }
        return .respond(answer(head, digest: digest, blob: blob, caller: caller))
    }

    /// A blob in a remote store, answered from the worker queue.
    private func getRemote(_ head: HTTPRequestHead, digest: Digest, caller: Caller) -> HTTPRequestAction {
        let context = self.context
        return .respondLater { responder in
            context.worker.async {
                let blob: OpenBlob
                do throws(StorageError) {
                    guard let found = try context.catalog.openForServing(digest) else {
                        responder.send(
                            APIResponse.error(
                                .notFound, .notFound, "no blob with digest \(digest.hex)", user: caller.user))
                        return
                    }
                    blob = found
                } catch {
                    responder.send(APIFailure.response(for: error, "serving \(digest.hex)", user: caller.user))
                    return
                }
                let response = answer(head, digest: digest, blob: blob, caller: caller)
                guard case .stream(let source as RemoteBodySource, _) = response.body, !head.isHead else {
                    responder.send(response)
                    return
                }
                // The head goes out once the store answered: its failure can still be a clean 404 or 503.
                source.open { failure in
                    guard let failure else { return responder.send(response) }
                    source.cancel()
                    if case .notFound = failure {
                        responder.send(
                            APIResponse.error(
                                .notFound, .notFound, "no blob with digest \(digest.hex)", user: caller.user))
                    } else {
                        responder.send(APIFailure.response(for: failure, "serving \(digest.hex)", user: caller.user))
                    }
                }
            }
        }
    }

    /// The answer for an opened blob: authorization by its visibility (none with `allowed`: a mirror's upstream
    /// allowed the requester), then 304, a range, or the whole blob.
    /// Takes care of `blob`: its descriptor goes into the response or is closed.
    func answer(
        _ head: HTTPRequestHead, digest: Digest, blob: OpenBlob, caller: Caller, allowed: Bool = false
    ) -> HTTPResponse {
        var redirect: (() -> String)?
        if case .remote(let remote) = blob.content, context.configuration.remoteDownloads == .redirect {
            // After the same authorization: the presigned URL is the permission, for a few minutes.
            redirect = { remote.temporaryURL(lifetime: context.configuration.redirectLifetime) }
        }
        return answer(
            head, digest: digest, size: blob.size, visibility: blob.visibility, caller: caller, allowed: allowed,
            redirect: redirect, release: blob.close
        ) { offset, length in Self.body(blob, offset: offset, length: length) }
    }

    /// The answer for a blob of `size` bytes: authorization by its visibility, then 304, a redirect, a range, or the
    /// whole blob, whose bytes `body` gives (offset, length). `release` runs when no body goes out. `allowed`: a
    /// mirror's upstream allowed the requester, no permission of this server's is needed. Also used by the mirror
    /// for a blob still arriving from its upstream.
    func answer(
        _ head: HTTPRequestHead, digest: Digest, size: Int64, visibility: Visibility, caller: Caller,
        allowed: Bool = false, redirect: (() -> String)? = nil, release: () -> Void,
        body: (Int64, Int64) -> HTTPResponseBody
    ) -> HTTPResponse {
        let needed: Permission? =
            visibility == .internal
            ? .downloadInternal : (context.configuration.anonymousPublic ? nil : .downloadPublic)
        if !allowed, let needed, var denial = Authorization.require(needed, caller) {
            release()
            denial.logUser = caller.user
            return denial
        }

        // In wire form as they are added (`HTTPHeaderBlock`): this runs for every blob request.
        let notModified = head.headers["If-None-Match"].map { Self.matches($0, etag: Self.etag(digest)) } ?? false
        var fields = HTTPHeaderBlock(maxBytes: 256 + digest.hex.utf8.count) { fields in
            fields.add("ETag", digest.hex, quoted: true)
            fields.add("Accept-Ranges", literal: "bytes")
            fields.add(
                "Cache-Control",
                literal: visibility == .public
                    ? "public, max-age=31536000, immutable" : "private, max-age=31536000, immutable")
            if !notModified { fields.add("Content-Type", literal: "application/octet-stream") }
        }
        if notModified {
            release()
            return HTTPResponse(status: .notModified, headerBlock: fields, logUser: caller.user)
        }
        if let redirect {
            fields.add("Location", redirect())
            return HTTPResponse(status: .found, headerBlock: fields, logUser: caller.user)
        }

        var range = ByteRange.parse(head.headers["Range"], size: size)
        if range != .whole, head.headers.values("Range").count > 1 {
            range = .invalid(reason: "only one Range header per request is supported")
        }
        if let ifRange = head.headers["If-Range"], ifRange.trimmingWhitespace() != Self.etag(digest) { range = .whole }
        switch range {
        case .whole:
            return HTTPResponse(status: .ok, headerBlock: fields, body: body(0, size), logUser: caller.user)
        case .partial(let first, let last):
            fields.add("Content-Range", "bytes \(first)-\(last)/\(size)")
            return HTTPResponse(
                status: .partialContent, headerBlock: fields, body: body(first, last - first + 1),
                logUser: caller.user)
        case .unsatisfiable:
            release()
            return APIResponse.error(
                .rangeNotSatisfiable, .rangeNotSatisfiable, "the blob has \(size) bytes",
                headers: [("Content-Range", "bytes */\(size)")], user: caller.user)
        case .invalid(let reason):
            release()
            return APIResponse.error(.badRequest, .badRange, reason, user: caller.user)
        }
    }

    /// `length` bytes of the blob from `offset`: a sendfile segment, or a stream from the remote store.
    private static func body(_ blob: OpenBlob, offset: Int64, length: Int64) -> HTTPResponseBody {
        switch blob.content {
        case .file(let fd):
            return .file(fd: fd, offset: offset, length: length)
        case .remote(let remote):
            guard length > 0 else { return .empty }
            return .stream(RemoteBodySource(remote, range: offset...(offset + length - 1)), length: length)
        }
    }

    /// The blob's ETag: its digest in double quotes.
    static func etag(_ digest: Digest) -> String {
        let hex = digest.hex.utf8
        return String(unsafeUninitializedCapacity: hex.count + 2) { buffer in
            buffer[0] = UInt8(ascii: "\"")
            _ = UnsafeMutableBufferPointer(rebasing: buffer[1...]).initialize(from: hex)
            buffer[hex.count + 1] = UInt8(ascii: "\"")
            return hex.count + 2
        }
    }

    /// `If-None-Match: "a", "b"` or `*` against our ETag (weak comparison, as RFC 9110 asks for this header).
    static func matches(_ condition: String, etag: String) -> Bool {
        condition.split(separator: ",").contains { item in
            var tag = item.trimmingWhitespace()
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            return tag == etag
        }
    }
}
