/// Plain HTTP GETs streamed over the same machinery as the S3 client: a libcurl multi handle driven by its own
/// libevent loop thread (`CurlLoop`: `CURLMOPT_SOCKETFUNCTION`/`CURLMOPT_TIMERFUNCTION` feeding
/// `curl_multi_socket_action`). Nothing here knows what is fetched; the mirror's upstream transfers use it.
///
/// Every callback of a fetch runs on that loop's thread, never on an HTTP event loop, so whatever a receiver does
/// with the bytes (write them to a temp file, hash them) never holds up a connection.
public final class CurlFetcher: Sendable {
    private let loop: CurlLoop

    /// Starts the loop's thread.
    public init() throws(S3Error) {
        loop = try CurlLoop()
    }

    /// Starts `GET url`; the receiver hears about it on the loop thread. `connectTimeout` bounds the connection
    /// (seconds); a transfer that moves no byte for `stallTimeout` seconds fails (libcurl's low-speed limit).
    @discardableResult
    public func get(
        _ url: String, headers: [(String, String)] = [], connectTimeout: Int, stallTimeout: Int,
        receiver: any CurlFetchReceiver
    ) -> CurlFetch {
        let fetch = CurlFetch(loop: loop)
        do {
            let transfer = try CurlTransfer(
                method: .get, url: url, headers: headers, body: [],
                timeouts: (connect: connectTimeout, stall: stallTimeout)
            ) { result in
                switch result {
                case .success: receiver.finished(.success(()))
                case .failure(let error): receiver.finished(.failure(CurlFetchError(error)))
                }
            }
            transfer.onHead = { status, headers in receiver.head(status: status, headers: headers) }
            transfer.onBytes = { bytes in receiver.received(bytes) }
            fetch.transfer = transfer
            loop.execute { [loop] in loop.start(transfer) }
        } catch {
            loop.execute { receiver.finished(.failure(CurlFetchError(error))) }
        }
        return fetch
    }

    /// Sends `HEAD url`; `then` hears on the loop thread the status and header fields of a 2xx answer (names in lower
    /// case), or why there is none (a non-2xx answer is `.status`). Same timeouts as `get`.
    public func head(
        _ url: String, headers: [(String, String)] = [], connectTimeout: Int, stallTimeout: Int,
        then: @escaping @Sendable (Result<(status: Int, headers: [(String, String)]), CurlFetchError>) -> Void
    ) {
        do {
            let transfer = try CurlTransfer(
                method: .head, url: url, headers: headers, body: [],
                timeouts: (connect: connectTimeout, stall: stallTimeout)
            ) { result in
                switch result {
                case .success(let response): then(.success((response.status, response.headers)))
                case .failure(let error): then(.failure(CurlFetchError(error)))
                }
            }
            loop.execute { [loop] in loop.start(transfer) }
        } catch {
            loop.execute { then(.failure(CurlFetchError(error))) }
        }
    }

    /// Sends one whole request and collects its whole answer, whatever its status (at most 4 MiB of body, else
    /// `.transport`); `then` hears on the loop thread. For a proxy: redirects are not followed.
    public func exchange(
        _ method: RequestMethod, _ url: String, headers: [(String, String)], body: [UInt8], connectTimeout: Int,
        stallTimeout: Int, then: @escaping @Sendable (Result<S3Response, CurlFetchError>) -> Void
    ) {
        do {
            let transfer = try CurlTransfer(
                method: method, url: url, headers: headers, body: body,
                timeouts: (connect: connectTimeout, stall: stallTimeout)
            ) { result in
                then(result.mapError { CurlFetchError($0) })
            }
            transfer.acceptAnyStatus = true
            loop.execute { [loop] in loop.start(transfer) }
        } catch {
            loop.execute { then(.failure(CurlFetchError(error))) }
        }
    }

    /// Ends the loop; fetches still running finish with `.cancelled`.
    public func stop() { loop.stop() }
}

/// Hears how one fetch goes, on the fetcher's loop thread, in this order: `head` (only for a 2xx answer) before its
/// first byte, `received` for each piece of its body, then `finished` once.
public protocol CurlFetchReceiver: AnyObject, Sendable {
    /// A 2xx answer's status and header fields (names in lower case).
    func head(status: Int, headers: [(String, String)])
    /// The next bytes of a 2xx body (valid during the call only). Return false to pause until `CurlFetch.resume`.
    func received(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// The fetch ended: success once the whole body came; a non-2xx answer is `.status`.
    func finished(_ result: Result<Void, CurlFetchError>)
}

/// A fetch in progress.
public final class CurlFetch: Sendable {
    private let loop: CurlLoop
    /// Set once, before the transfer starts; read on the loop thread only.
    nonisolated(unsafe) fileprivate(set) var transfer: CurlTransfer?

    fileprivate init(loop: CurlLoop) { self.loop = loop }

    /// Goes on after `received` answered false. Any thread.
    public func resume() {
        loop.execute { [self] in transfer?.resume() }
    }

    /// Stops the fetch; the receiver hears `finished(.failure(.cancelled))` unless it finished already. Any thread.
    public func cancel() {
        loop.execute { [self] in
            guard let transfer else { return }
            loop.finish(transfer, .cancelled)
        }
    }
}

/// Why a fetch failed.
public enum CurlFetchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server answered this non-2xx status.
    case status(Int)
    /// No answer, or not a whole one: libcurl's code and message (refused, reset, cut short, timed out).
    case transport(code: Int, message: String)
    /// The fetch was cancelled.
    case cancelled

    /// libcurl's `CURLE_OPERATION_TIMEDOUT`: the connect timeout or the stall limit ran out.
    public var isTimeout: Bool {
        if case .transport(let code, _) = self { return code == 28 }
        return false
    }

    init(_ error: S3Error) {
        switch error {
        case .service(let status, _, _): self = .status(status)
        case .transport(let code, let message): self = .transport(code: code, message: message)
        case .cancelled: self = .cancelled
        case .invalidResponse(let detail), .configuration(let detail): self = .transport(code: -1, message: detail)
        }
    }

    public var description: String {
        switch self {
        case .status(let status): return "answered \(status)"
        case .transport(let code, let message): return "\(message) (curl \(code))"
        case .cancelled: return "cancelled"
        }
    }
}
