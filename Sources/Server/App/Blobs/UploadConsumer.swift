import HTTPServer
import Shared
import Storage

/// Streams a PUT body into the blob store: `consume` on the loop thread (hash and append, nothing buffered),
/// the commit (fsync, link, index) on the worker queue.
final class UploadConsumer: HTTPBodyConsumer {
    private let upload: any BlobUpload
    private let routes: BlobRoutes
    private let user: String?
    private var finished = false

    init(upload: any BlobUpload, routes: BlobRoutes, user: String?) {
        self.upload = upload
        self.routes = routes
        self.user = user
        routes.context.inFlight.begin(upload.digest)
    }

    deinit {
        // A consumer dropped without `end` or `abort` (a connection torn down at an odd moment) still ends its upload:
        // the temp file goes and `/upload/complete` stops answering 409 for the digest.
        if !finished { fail() }
    }

    func consume(_ chunk: UnsafeRawBufferPointer) -> HTTPResponse? {
        do {
            try upload.write(chunk)
            return nil
        } catch {
            fail()
            return BlobRoutes.response(for: error, digest: upload.digest, user: user, close: true)
        }
    }

    func end(responder: any HTTPResponder) {
        guard !finished else { return }
        finished = true
        let upload = self.upload, routes = self.routes, user = self.user
        let context = routes.context
        context.worker.async {
            let response: HTTPResponse
            do {
                let outcome = try upload.commit()
                let record = try context.index.recordStored(upload.digest, size: upload.expectedSize, visibility: upload.visibility)
                context.metrics.uploadVerified()
                response = routes.uploaded(digest: record.digest, size: record.size, visibility: record.visibility,
                                           new: outcome == .stored, user: user)
            } catch let error as StorageError {
                context.metrics.uploadRejected()
                response = BlobRoutes.response(for: error, digest: upload.digest, user: user)
            } catch let error as IndexError {
                context.metrics.uploadRejected()
                // The blob is stored (the folders are the truth; the index catches up when it is back and the
                // client retries), but the client is not told so: a 503 asks it to try again.
                response = APIFailure(error)?.response(user: user)
                    ?? APIResponse.internalError("indexing \(upload.digest.hex)", error, user: user)
            } catch {
                context.metrics.uploadRejected()
                response = APIResponse.internalError("indexing \(upload.digest.hex)", error, user: user)
            }
            // The upload is over before the client hears so: an `upload/complete` right after this answer must not
            // find it still in flight.
            context.inFlight.end(upload.digest)
            responder.send(response)
        }
    }

    func abort() {
        guard !finished else { return }
        fail()
    }

    private func fail() {
        finished = true
        upload.abort()
        routes.context.metrics.uploadRejected()
        routes.context.inFlight.end(upload.digest)
    }
}
