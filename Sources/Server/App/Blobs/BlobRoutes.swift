#if canImport(Glibc)
import Glibc
#endif
import HTTPServer
import Shared
import Storage

/// `GET`/`HEAD /sha512/<digest>`: the hot path. One `open` per request, the body by sendfile, no SQLite.
struct BlobRoutes: Sendable {
    let context: ServerContext

    /// Serves a blob with caching headers, `Range` and `If-None-Match`.
    func get(_ head: HTTPRequestHead, digest: Digest, caller: Caller) -> HTTPResponse {
        let blob: OpenBlob
        do {
            guard let found = try context.store.openForReading(digest) else {
                return APIResponse.error(404, "NotFound", "no blob with digest \(digest.hex)", user: caller.user)
            }
            blob = found
        } catch {
            return APIResponse.internalError("opening \(digest.hex)", error, user: caller.user)
        }
        let needed: Permission? = blob.visibility == .internal
            ? .downloadInternal : (context.configuration.anonymousPublic ? nil : .downloadPublic)
        if let needed, var denial = Authorization.require(needed, caller) {
            close(blob.fd)
            denial.logUser = caller.user
            return denial
        }

        // In wire form as they are added (`HTTPHeaderBlock`): this runs for every blob request.
        let notModified = head.headers["If-None-Match"].map { Self.matches($0, etag: Self.etag(digest)) } ?? false
        var fields = HTTPHeaderBlock(maxBytes: 256 + digest.hex.utf8.count) { fields in
            fields.add("ETag", digest.hex, quoted: true)
            fields.add("Accept-Ranges", literal: "bytes")
            fields.add("Cache-Control", literal: blob.visibility == .public
                ? "public, max-age=31536000, immutable" : "private, max-age=31536000, immutable")
            if !notModified { fields.add("Content-Type", literal: "application/octet-stream") }
        }
        if notModified {
            close(blob.fd)
            return HTTPResponse(status: 304, headerBlock: fields, logUser: caller.user)
        }

        var range = ByteRange.parse(head.headers["Range"], size: blob.size)
        if range != .whole, head.headers.values("Range").count > 1 {
            range = .invalid(reason: "only one Range header per request is supported")
        }
        if let ifRange = head.headers["If-Range"], ifRange.trimmingWhitespace() != Self.etag(digest) { range = .whole }
        switch range {
        case .whole:
            return HTTPResponse(status: 200, headerBlock: fields, body: .file(fd: blob.fd, offset: 0, length: blob.size),
                                logUser: caller.user)
        case .partial(let first, let last):
            fields.add("Content-Range", "bytes \(first)-\(last)/\(blob.size)")
            return HTTPResponse(status: 206, headerBlock: fields,
                                body: .file(fd: blob.fd, offset: first, length: last - first + 1), logUser: caller.user)
        case .unsatisfiable:
            close(blob.fd)
            return APIResponse.error(416, "RangeNotSatisfiable", "the blob has \(blob.size) bytes",
                                     headers: [("Content-Range", "bytes */\(blob.size)")], user: caller.user)
        case .invalid(let reason):
            close(blob.fd)
            return APIResponse.error(400, "BadRange", reason, user: caller.user)
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
