import HTTPServer
import Shared
import Storage

/// Streams a PUT body into the blob store: `consume` on the loop thread only copies each chunk to the upload's
/// writer (`UploadWriter`: the writes, the commit and the index happen off the loop, in order).
final class UploadConsumer: HTTPBodyConsumer {
    private let writer: UploadWriter
    private let routes: BlobRoutes
    private let user: String?
    private var finished = false

    init(upload: any BlobUpload, routes: BlobRoutes, user: String?) {
        self.writer = UploadWriter(upload: upload, worker: routes.context.worker)
        self.routes = routes
        self.user = user
        routes.context.inFlight.begin(upload.digest)
    }

    deinit {
        // A consumer dropped without `end` or `abort` (a connection torn down at an odd moment) still ends its upload:
        // the temp data goes and `/upload/complete` stops answering 409 for the digest.
        if !finished { fail() }
    }

    func consume(_ chunk: UnsafeRawBufferPointer, flow: HTTPBodyFlow) -> HTTPConsumeResult {
        switch writer.enqueue(chunk, flow: flow) {
        case .queued: return .proceed
        case .queuedPausing: return .pause
        case .failed(let error):
            fail()
            return .stop(
                APIFailure.response(for: error, "storing \(writer.upload.digest.hex)", user: user, close: true))
        }
    }

    func end(responder: any HTTPResponder) {
        guard !finished else { return }
        finished = true
        let upload = writer.upload, routes = self.routes, user = self.user
        let context = routes.context
        writer.afterWrites { failure in
            let response: HTTPResponse
            if let failure {
                context.metrics.uploadRejected()
                response = APIFailure.response(for: failure, "storing \(upload.digest.hex)", user: user)
            } else {
                response = Self.commit(upload, routes: routes, user: user)
            }
            // The upload is over before the client hears so: an `upload/complete` or PATCH right after this answer,
            // on this server or another, must not find it still in flight.
            context.inFlight.end(upload.digest) { responder.send(response) }
        }
    }

    /// Publishes and records a fully written upload; the answer for the client.
    private static func commit(_ upload: any BlobUpload, routes: BlobRoutes, user: String?) -> HTTPResponse {
        let context = routes.context
        do {
            let (record, outcome) = try context.catalog.commit(upload)
            context.metrics.uploadVerified()
            return routes.uploaded(
                digest: record.digest, size: record.size, visibility: record.visibility,
                new: outcome == .stored, user: user)
        } catch {
            context.metrics.uploadRejected()
            // After an index failure the blob is stored (the store is the truth; the index catches up when it is
            // back and the client retries), but the client is not told so: a 503 asks it to try again.
            return APIFailure.response(for: error, "committing \(upload.digest.hex)", user: user)
        }
    }

    func abort() {
        guard !finished else { return }
        fail()
    }

    private func fail() {
        finished = true
        let context = routes.context, digest = writer.upload.digest
        context.metrics.uploadRejected()
        writer.abort { context.inFlight.end(digest) }
    }
}
