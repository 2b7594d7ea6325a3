import Dispatch
import HTTPServer
import Storage
import Synchronization

/// Writes one upload's body off the event loop: chunks are copied and written in order on the upload's own serial
/// queue, and the loop reads on only while less than `pendingLimit` bytes wait (back-pressure through
/// `HTTPBodyFlow`). A slow disk or a slow object store then holds the client back instead of the loop or memory:
/// at most `pendingLimit` plus one read (256 KiB) of body waits here per upload.
final class UploadWriter: Sendable {
    /// Bytes waiting for the writer past which the loop pauses the body.
    static let pendingLimit = 1 << 20
    /// Bytes waiting under which a paused body reads on.
    static let resumeBelow = 256 << 10

    private struct State {
        var pending = 0
        var paused: HTTPBodyFlow?
        var failure: StorageError?
    }

    let upload: any BlobUpload
    private let state = Mutex(State())
    private let queue: SerialJobs

    /// A writer for `upload` whose jobs run in order on `worker`.
    init(upload: any BlobUpload, worker: WorkerQueue) {
        self.upload = upload
        queue = worker.serial()
    }

    /// What became of a chunk handed to `enqueue`.
    enum Outcome {
        /// Queued; read on.
        case queued
        /// Queued; pause the body until the writer catches up (it resumes `flow` itself).
        case queuedPausing
        /// An earlier write failed: the upload is over.
        case failed(StorageError)
    }

    /// Loop thread: queues a copy of `chunk` for writing.
    func enqueue(_ chunk: UnsafeRawBufferPointer, flow: HTTPBodyFlow) -> Outcome {
        let bytes = [UInt8](chunk)
        let outcome = state.withLock { state -> Outcome in
            if let failure = state.failure { return .failed(failure) }
            state.pending += bytes.count
            guard state.pending >= Self.pendingLimit else { return .queued }
            state.paused = flow
            return .queuedPausing
        }
        if case .failed = outcome { return outcome }
        queue.async { [self] in write(bytes) }
        return outcome
    }

    private func write(_ bytes: [UInt8]) {
        var failure = state.withLock { $0.failure }
        if failure == nil {
            bytes.withUnsafeBytes { buffer in
                do throws(StorageError) { try upload.write(buffer) } catch { failure = error }
            }
            if failure != nil { upload.abort() }
        }
        let resume = state.withLock { state -> HTTPBodyFlow? in
            state.pending -= bytes.count
            if state.failure == nil { state.failure = failure }
            // A failure resumes the body too: the next chunk then meets it and the client gets the error at once.
            guard state.failure != nil || state.pending < Self.resumeBelow, let flow = state.paused else { return nil }
            state.paused = nil
            return flow
        }
        resume?.resume()
    }

    /// After every queued write: `job` with the first write failure, if any.
    func afterWrites(_ job: @escaping @Sendable (StorageError?) -> Void) {
        queue.async { [self] in job(state.withLock { $0.failure }) }
    }

    /// Drops the upload once the queued writes are done (they are skipped once it is aborted), then runs `then`.
    func abort(then: @escaping @Sendable () -> Void) {
        state.withLock { state in
            if state.failure == nil { state.failure = .uploadClosed(upload.digest) }
        }
        queue.async { [self] in
            upload.abort()
            then()
        }
    }
}
