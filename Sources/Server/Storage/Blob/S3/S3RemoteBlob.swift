import S3
import Synchronization

/// A blob in the bucket, read through the server (a streamed GET with back-pressure) or handed out as a presigned URL.
final class S3RemoteBlob: RemoteBlob {
    let store: S3BlobStore
    let key: String
    /// Tried once when `key` answers 404 before any byte (see `S3BlobStore.openForReading`).
    let fallback: String?

    init(store: S3BlobStore, key: String, fallback: String?) {
        self.store = store
        self.key = key
        self.fallback = fallback
    }

    func read(_ range: ClosedRange<Int64>, into receiver: any BlobReceiver) -> any BlobReading {
        let reading = S3Reading(store: store, range: range, receiver: receiver)
        reading.start(key, then: fallback)
        return reading
    }

    func temporaryURL(lifetime: Int) -> String {
        store.client.presignedGetURL(key: key, expires: lifetime)
    }
}

/// One read: an S3 GET whose sink calls pass to the receiver, possibly a second GET at the fallback key.
final class S3Reading: BlobReading, S3DownloadSink {
    private let store: S3BlobStore
    private let range: ClosedRange<Int64>
    private let receiver: any BlobReceiver
    private struct State {
        var download: S3Download?
        var fallback: String?
        var opened = false
        var cancelled = false
    }
    private let state = Mutex(State())

    init(store: S3BlobStore, range: ClosedRange<Int64>, receiver: any BlobReceiver) {
        self.store = store
        self.range = range
        self.receiver = receiver
    }

    func start(_ key: String, then fallback: String?) {
        state.withLock { $0.fallback = fallback }
        let download = store.client.getObject(key: key, range: range, sink: self)
        let cancelled = state.withLock { state in
            state.download = download
            return state.cancelled
        }
        if cancelled { download.cancel() }
    }

    func resume() { state.withLock { $0.download }?.resume() }

    func cancel() {
        let download = state.withLock { state in
            state.cancelled = true
            return state.download
        }
        download?.cancel()
    }

    // MARK: S3DownloadSink (the S3 loop thread)

    func head(status: Int, contentLength: Int64) {
        state.withLock { $0.opened = true }
        receiver.opened(.success(()))
    }

    func bytes(_ bytes: UnsafeRawBufferPointer) -> S3SinkDecision {
        receiver.received(bytes) ? .proceed : .pause
    }

    func finished(_ result: Result<Void, S3Error>) {
        let (opened, fallback, cancelled) = state.withLock { state in
            defer { state.fallback = nil }
            return (state.opened, state.fallback, state.cancelled)
        }
        if cancelled { return }
        switch result {
        case .success:
            if !opened { receiver.opened(.success(())) }
            receiver.finished(nil)
        case .failure(let error) where !opened:
            if error.isNotFound, let fallback { return start(fallback, then: nil) }
            receiver.opened(
                .failure(
                    error.isNotFound
                        ? .unavailable(operation: "GET", detail: "gone from the bucket")
                        : S3BlobStore.failure(error, "GET")))
        case .failure(let error):
            receiver.finished(S3BlobStore.failure(error, "GET"))
        }
    }
}
