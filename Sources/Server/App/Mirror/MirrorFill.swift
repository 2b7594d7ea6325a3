import S3
import Shared
import Storage
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One upstream transfer of one blob into the store, shared by every requester of its digest.
///
/// Bytes go to a temp file of the store (`ReadableUpload`) and through its SHA-512 as they arrive, on the fetcher's
/// loop thread; requesters read that file at their own pace (`MirrorBodySource`), so a slow requester never slows
/// the transfer nor makes the server hold its bytes in memory: per transfer, memory is libcurl's buffer, plus at
/// most `HTTPBodySink.highWater` per requester. Nothing is paused: the disk takes whatever the upstream sends.
///
/// Every requester is held back from its last byte until the commit verified the digest; on a mismatch or a cut
/// their connections close short, the temp file goes, and nothing is published.
///
/// Thread use: `CurlFetchReceiver` calls come from the fetcher's loop thread; `wait`, `attach`, `detach`,
/// `progress` from any thread; the commit runs on the worker queue. All state is under `state`.
final class MirrorFill: CurlFetchReceiver {
    enum Phase: Sendable {
        /// Asking upstream `attempt` (counted from the first one asked); no byte yet.
        case connecting
        /// The head came: `size` bytes of a blob of `visibility` are arriving.
        case arriving(size: Int64, visibility: Visibility)
        /// Every byte came and matched: the blob is published.
        case verified(size: Int64)
        /// The transfer failed; nothing was kept.
        case failed(MirrorFailure)
    }

    private struct State {
        var phase = Phase.connecting
        /// Upstreams asked so far (the current one included).
        var attempts = 0
        /// Bytes in the temp file so far.
        var written: Int64 = 0
        /// `written` when readers were last told about new bytes.
        var announced: Int64 = 0
        var upload: (any ReadableUpload)?
        var fetch: CurlFetch?
        /// Requesters waiting for the head.
        var waiters: [@Sendable (MirrorOutcome) -> Void] = []
        /// Requesters reading the file.
        var readers: [ObjectIdentifier: MirrorBodySource] = [:]
        /// Why the upstreams asked so far failed before any byte (for the final answer and the log).
        var refusals: [(outcome: MirrorFetchOutcome, status: Int?, detail: String)] = []
    }

    /// Readers are told about new bytes at most once per this many (and at the end).
    private static let announceStep: Int64 = 256 << 10

    let digest: Digest
    /// The token of the requester who started the transfer, forwarded upstream (nil: asked without one). Whoever
    /// joins a pvt transfer with another token is allowed on its own first (`BlobRoutes+Mirror`).
    let credential: UpstreamCredential?
    private let mirror: Mirror
    /// Index of the upstream asked first.
    private let first: Int
    private let state = Mutex(State())
    /// A descriptor on the temp file for the readers' `pread`s, once the head came (-1 before); closed on deinit.
    private let readFD = Atomic<Int32>(-1)

    init(digest: Digest, mirror: Mirror, first: Int, credential: UpstreamCredential?) {
        self.digest = digest
        self.credential = credential
        self.mirror = mirror
        self.first = first
    }

    deinit {
        let fd = readFD.load(ordering: .relaxed)
        if fd >= 0 { close(fd) }
    }

    /// The descriptor readers `pread` from.
    var fd: Int32 { readFD.load(ordering: .acquiring) }

    /// Index (in `mirror.upstreams`) of the upstream asked by attempt `attempt`.
    private func upstream(_ attempt: Int) -> Int { (first + attempt) % mirror.upstreams.count }

    /// Starts asking the first upstream.
    func start() {
        state.withLock { $0.attempts = 1 }
        ask(upstream(0))
    }

    private func ask(_ index: Int) {
        let url = "\(mirror.upstreams[index])/sha512/\(digest.hex)"
        let fetch = mirror.fetcher.get(
            url, headers: credential?.headers ?? [], connectTimeout: mirror.connectTimeout,
            stallTimeout: mirror.stallTimeout, receiver: self)
        state.withLock { $0.fetch = fetch }
    }

    /// `then` hears how the blob can be served: at once when the head came already, else when it comes.
    func wait(_ then: @escaping @Sendable (MirrorOutcome) -> Void) {
        let now = state.withLock { state -> MirrorOutcome? in
            switch state.phase {
            case .connecting:
                state.waiters.append(then)
                return nil
            case .arriving(let size, let visibility):
                if size == 0 { state.waiters.append(then); return nil }  // nothing to stream: wait for the verdict
                return .arriving(self, size: size, visibility: visibility)
            case .verified: return .stored
            case .failed(let failure): return .failed(failure, askedWith: credential)
            }
        }
        if let now { then(now) }
    }

    /// Where the transfer is, for a reader: bytes in the file, and whether they are verified or lost.
    func progress() -> (written: Int64, phase: Phase) {
        state.withLock { ($0.written, $0.phase) }
    }

    /// A reader starts; it hears `dataArrived` from now on. False when the transfer failed already.
    func attach(_ reader: MirrorBodySource) {
        state.withLock { $0.readers[ObjectIdentifier(reader)] = reader }
    }

    /// A reader is done (finished, failed or cancelled).
    func detach(_ reader: MirrorBodySource) {
        _ = state.withLock { $0.readers.removeValue(forKey: ObjectIdentifier(reader)) }
    }

    // MARK: CurlFetchReceiver (the fetcher's loop thread)

    func head(status: Int, headers: [(String, String)]) {
        let attempt = state.withLock { $0.attempts - 1 }
        guard let lengthText = headers.first(where: { $0.0 == "content-length" })?.1, let size = Int64(lengthText),
            size >= 0
        else {
            return refuse(
                .unreachable,
                "upstream \(mirror.upstreams[upstream(attempt)]) answered \(status) without a Content-Length")
        }
        // The upstream says which it is: `Cache-Control: private` for a pvt blob, served only to a token it allowed.
        let control = headers.first { $0.0 == "cache-control" }?.1 ?? ""
        let visibility: Visibility = control.lowercased().hasPrefix("private") ? .internal : .public
        if visibility == .internal, let credential { mirror.access.grant(credential) }
        mirror.access.confirm(digest)
        let upload: any ReadableUpload
        do {
            guard
                let readable = try mirror.store.beginUpload(digest, visibility: visibility, expectedSize: size)
                    as? ReadableUpload
            else {
                return fail(.storageError, .storage("the store cannot be read while it is written"))
            }
            upload = readable
            readFD.store(try upload.openReader(), ordering: .releasing)
        } catch {
            ServerLog.error("mirror: cannot store \(digest.hex) (\(size) bytes): \(error)")
            return fail(.storageError, .storage("\(error)"))
        }
        let waiters = state.withLock { state -> [@Sendable (MirrorOutcome) -> Void] in
            state.upload = upload
            state.phase = .arriving(size: size, visibility: visibility)
            guard size > 0 else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter(.arriving(self, size: size, visibility: visibility)) }
    }

    func received(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let upload = state.withLock({ $0.upload }) else { return true }
        do {
            try upload.write(bytes)
        } catch {
            let attempt = state.withLock { $0.attempts - 1 }
            let source = mirror.upstreams[upstream(attempt)]
            if case .tooLarge = error {
                ServerLog.error("mirror: \(source) sent more bytes than announced for \(digest.hex); nothing kept")
                mirror.passOver(upstream(attempt))
                fail(.mismatch, .badGateway("the upstream sent more bytes than it announced"))
            } else {
                ServerLog.error("mirror: cannot write \(digest.hex) from \(source): \(error)")
                fail(.storageError, .storage("\(error)"))
            }
            return true
        }
        let readers = state.withLock { state -> [MirrorBodySource] in
            state.written += Int64(bytes.count)
            guard state.written - state.announced >= Self.announceStep else { return [] }
            state.announced = state.written
            return Array(state.readers.values)
        }
        for reader in readers { reader.dataArrived() }
        return true
    }

    func finished(_ result: Result<Void, CurlFetchError>) {
        let (phase, attempt, upload) = state.withLock { ($0.phase, $0.attempts - 1, $0.upload) }
        let source = mirror.upstreams[upstream(attempt)]
        switch (phase, result) {
        case (.failed, _), (.verified, _):
            return  // failed on our side (the fetch was cancelled), already dealt with
        case (.arriving(let size, _), .success):
            guard let upload else { return }
            let readers = state.withLock { state in
                state.announced = state.written
                return Array(state.readers.values)
            }
            for reader in readers { reader.dataArrived() }
            mirror.worker.async { [self] in commit(upload, size: size, source: source) }
        case (.arriving, .failure(let error)):
            ServerLog.error("mirror: \(digest.hex) from \(source) was cut: \(error); nothing kept")
            mirror.passOver(upstream(attempt))
            fail(.cut, .badGateway("the transfer was cut: \(error)"))
        case (.connecting, .success):
            refuse(.unreachable, "\(source) answered without a body")
        case (.connecting, .failure(let error)):
            switch error {
            case .status(404):
                refuse(.notFound, "\(source) answered 404")
            case .status(let status) where status == 401 || status == 403:
                refuse(.denied, "\(source) answered \(status)", status: status)
            case .cancelled:
                fail(.unreachable, .badGateway("the transfer was cancelled"))
            default:
                refuse(error.isTimeout ? .timeout : .unreachable, "\(source): \(error)")
            }
        }
    }

    // MARK: Endings

    /// The current upstream gave nothing (before any byte): ask the next one, or answer with what they all said.
    private func refuse(_ outcome: MirrorFetchOutcome, _ detail: String, status: Int? = nil) {
        mirror.metrics.mirrorFetch(outcome)
        let next = state.withLock { state -> Int? in
            state.refusals.append((outcome, status, detail))
            state.fetch = nil
            guard state.attempts < mirror.upstreams.count else { return nil }
            state.attempts += 1
            return state.attempts - 1
        }
        if outcome != .notFound && outcome != .denied { ServerLog.error("mirror: \(digest.hex): \(detail)") }
        if let next { return ask(upstream(next)) }
        let refusals = state.withLock { $0.refusals }
        let details = refusals.map(\.detail).joined(separator: "; ")
        let failure: MirrorFailure
        if refusals.contains(where: { $0.status == 403 }),
            refusals.allSatisfy({ $0.outcome == .notFound || $0.outcome == .denied })
        {
            failure = .denied(.forbidden, details)
        } else if refusals.contains(where: { $0.status == 401 }),
            refusals.allSatisfy({ $0.outcome == .notFound || $0.outcome == .denied })
        {
            failure = .denied(.unauthorized, details)
        } else if refusals.allSatisfy({ $0.outcome == .notFound }) {
            failure = .notFound(digest.hex)
        } else if refusals.contains(where: { $0.outcome == .timeout }) {
            failure = .gatewayTimeout(details)
        } else {
            failure = .badGateway(details)
        }
        end(.failed(failure))
    }

    /// The transfer cannot go on: drop the temp file, stop the fetch, fail every requester.
    private func fail(_ outcome: MirrorFetchOutcome, _ failure: MirrorFailure) {
        mirror.metrics.mirrorFetch(outcome)
        let (upload, fetch) = state.withLock { state in (state.upload, state.fetch) }
        upload?.abort()
        end(.failed(failure))
        fetch?.cancel()
    }

    /// Worker queue: verify, fsync, publish, record; then let the readers finish (or fail them).
    private func commit(_ upload: any ReadableUpload, size: Int64, source: String) {
        do {
            _ = try mirror.catalog.commit(upload)
        } catch StorageError.digestMismatch(_, let actual, _, let actualSize) {
            ServerLog.error(
                "mirror: \(source) sent \(actualSize) bytes hashing to \(actual.hex) for \(digest.hex); nothing kept")
            mirror.passOver(first + state.withLock { $0.attempts - 1 })
            return fail(.mismatch, .badGateway("the upstream sent bytes that do not match the digest"))
        } catch let error as StorageError {
            ServerLog.error("mirror: cannot store \(digest.hex): \(error)")
            return fail(.storageError, .storage("\(error)"))
        } catch {
            // Published; the index will catch up (reconcile), the store is the truth.
            ServerLog.error("mirror: \(digest.hex) is stored but not indexed: \(error)")
        }
        mirror.metrics.mirrorFetch(.verified)
        ServerLog.info("mirror: \(digest.hex) (\(size) bytes) from \(source) verified and kept")
        // Before the requesters' last bytes: once a client has the blob, the cache is within its limit again.
        mirror.cache.added(digest, size: size, catalog: mirror.catalog)
        end(.verified(size: size))
    }

    /// Sets the final phase, tells waiters and readers, and leaves the mirror's table.
    private func end(_ phase: Phase) {
        let (waiters, readers) = state.withLock { state -> ([@Sendable (MirrorOutcome) -> Void], [MirrorBodySource]) in
            state.phase = phase
            state.upload = nil
            state.fetch = nil
            defer { state.waiters = [] }
            return (state.waiters, Array(state.readers.values))
        }
        mirror.ended(self)
        let outcome: MirrorOutcome
        switch phase {
        case .failed(let failure): outcome = .failed(failure, askedWith: credential)
        default: outcome = .stored
        }
        for waiter in waiters { waiter(outcome) }
        for reader in readers { reader.dataArrived() }
    }
}
