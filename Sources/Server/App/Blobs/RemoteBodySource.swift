import HTTPServer
import Storage
import Synchronization

/// A range of a remote blob as a response body.
///
/// The read starts in `open`, before the response head, so a store that answers 404 or fails still gets a clean
/// 404 or 503. Bytes that come before the connection attaches its sink wait here (the read pauses after the first
/// chunk); after that they go straight into the sink, whose back-pressure pauses and resumes the read.
final class RemoteBodySource: HTTPBodySource, BlobReceiver {
    private enum Ending {
        case open
        case ended(StorageError?)
    }

    private struct State {
        var reading: (any BlobReading)?
        var opened: (@Sendable (StorageError?) -> Void)?
        var sink: HTTPBodySink?
        var early: [[UInt8]] = []
        var ending = Ending.open
        var cancelled = false
    }

    private let remote: any RemoteBlob
    private let range: ClosedRange<Int64>
    private let state = Mutex(State())

    init(_ remote: any RemoteBlob, range: ClosedRange<Int64>) {
        self.remote = remote
        self.range = range
    }

    /// Starts the read; `then` hears once whether the store answered with the bytes (nil) or failed.
    func open(_ then: @escaping @Sendable (StorageError?) -> Void) {
        state.withLock { $0.opened = then }
        let reading = remote.read(range, into: self)
        let cancelled = state.withLock { state in
            state.reading = reading
            return state.cancelled
        }
        if cancelled { reading.cancel() }
    }

    // MARK: BlobReceiver (the store's threads)

    func opened(_ result: Result<Void, StorageError>) {
        let then = state.withLock { state in
            defer { state.opened = nil }
            return state.opened
        }
        switch result {
        case .success: then?(nil)
        case .failure(let error): then?(error)
        }
    }

    func received(_ bytes: UnsafeRawBufferPointer) -> Bool {
        state.withLock { state in
            if let sink = state.sink { return sink.write(bytes) }
            state.early.append([UInt8](bytes))
            return false
        }
    }

    func finished(_ error: StorageError?) {
        state.withLock { state in
            guard let sink = state.sink else {
                state.ending = .ended(error)
                return
            }
            if error == nil { sink.finish() } else { sink.fail() }
        }
    }

    // MARK: HTTPBodySource (the connection's loop)

    func start(_ sink: HTTPBodySink) {
        let (reading, goOn) = state.withLock { state -> ((any BlobReading)?, Bool) in
            state.sink = sink
            var room = true
            for chunk in state.early { room = chunk.withUnsafeBytes { sink.write($0) } }
            state.early = []
            if case .ended(let error) = state.ending {
                if error == nil { sink.finish() } else { sink.fail() }
                return (nil, false)
            }
            return (state.reading, room)
        }
        if goOn { reading?.resume() }
    }

    func resume() {
        state.withLock { $0.reading }?.resume()
    }

    func cancel() {
        let reading = state.withLock { state in
            state.cancelled = true
            state.early = []
            return state.reading
        }
        reading?.cancel()
    }
}
