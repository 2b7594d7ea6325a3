import CCurl
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// What came back for a request.
public struct S3Response: Sendable {
    public let status: Int
    /// Header fields, names in lower case.
    public let headers: [(String, String)]
    /// The body (only collected for answers that are not streamed; at most 4 MiB).
    public let body: [UInt8]

    public func header(_ name: String) -> String? { headers.first { $0.0 == name }?.1 }
}

/// One HTTP request on a `CurlLoop`: the answer is collected, or (for a 2xx GET) streamed with pause and resume.
///
/// `@unchecked Sendable`: created on any thread, then used only on its loop's thread once `start`ed.
final class CurlTransfer: @unchecked Sendable {
    let easy: UnsafeMutableRawPointer
    /// The loop running it, from `CurlLoop.start` until `complete` lets go (the loop holds the transfer meanwhile).
    var loop: CurlLoop?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let body: [UInt8]
    private var bodyOffset = 0
    private var status = 0
    private var headers: [(String, String)] = []
    private var collected: [UInt8] = []
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    private var context: Unmanaged<CurlTransfer>?
    private var completion: ((Result<S3Response, S3Error>) -> Void)?

    /// For a streamed answer: told the status and headers once, before the first byte (return false to take the
    /// body as an error body instead), then given each piece of a 2xx body (return false to pause it).
    var onHead: ((Int, [(String, String)]) -> Void)?
    var onBytes: ((UnsafeRawBufferPointer) -> Bool)?
    /// Answers of any status complete as `.success` with their body (a proxy passes them on); a body past
    /// `collectLimit` then fails the transfer rather than being cut.
    var acceptAnyStatus = false
    /// Most bytes of a body collected in memory.
    static let collectLimit = 4 << 20
    private var overflowed = false
    /// True once a body byte of a 2xx answer went to `onBytes` (such a request cannot be retried).
    private(set) var delivered = false
    private var headSent = false
    private var pauseRequested = false
    private var paused = false

    /// A request; `completion` runs on the loop thread once, with the answer or why there is none.
    init(
        method: RequestMethod, url: String, headers: [(String, String)], body: [UInt8],
        timeouts: (connect: Int, stall: Int),
        completion: @escaping (Result<S3Response, S3Error>) -> Void
    ) throws(S3Error) {
        guard curlGlobalReady, let easy = curl_easy_init() else { throw .configuration("curl_easy_init failed") }
        self.easy = easy
        self.body = body
        self.completion = completion
        errorBuffer[0] = 0
        for (name, value) in headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        headerList = curl_slist_append(headerList, "Expect:")  // no 100-continue round trip
        let context = Unmanaged.passRetained(self)  // released in `complete`
        self.context = context
        let raw = context.toOpaque()
        _ = tt_curl_setopt_string(easy, CURLOPT_URL, url)
        _ = tt_curl_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList)
        _ = tt_curl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        _ = tt_curl_setopt_pointer(easy, CURLOPT_PRIVATE, raw)
        _ = tt_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = tt_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, timeouts.connect * 1000)
        _ = tt_curl_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = tt_curl_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, timeouts.stall)
        _ = tt_curl_setopt_pointer(easy, CURLOPT_WRITEDATA, raw)
        _ = tt_curl_setopt_pointer(easy, CURLOPT_HEADERDATA, raw)
        _ = tt_curl_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
                .write(UnsafeRawBufferPointer(start: data, count: size * count))
        }
        _ = tt_curl_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
                .header(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
        switch method {
        case .get: break
        case .head: _ = tt_curl_setopt_long(easy, CURLOPT_NOBODY, 1)
        default:
            if method != .delete || !body.isEmpty {
                _ = tt_curl_setopt_long(easy, CURLOPT_UPLOAD, 1)
                _ = tt_curl_setopt_off(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(body.count))
                _ = tt_curl_setopt_pointer(easy, CURLOPT_READDATA, raw)
                _ = tt_curl_setopt_read_callback(easy) { data, size, count, context in
                    Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue().read(
                        into: data!, room: size * count)
                }
            }
            if method != .put { _ = tt_curl_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method.rawValue) }
        }
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    /// Loop thread: the streamed body may go on.
    func resume() {
        assert(loop?.isCurrentThread ?? true, "CurlTransfer.resume off its loop thread")
        pauseRequested = false
        guard paused else { return }
        paused = false
        loop?.unpause(self)
    }

    private func read(into buffer: UnsafeMutablePointer<CChar>, room: Int) -> Int {
        let count = min(room, body.count - bodyOffset)
        guard count > 0 else { return 0 }
        body.withUnsafeBytes { source in
            UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress! + bodyOffset, byteCount: count)
        }
        bodyOffset += count
        return count
    }

    private func header(_ line: UnsafeRawBufferPointer) {
        let text = String(decoding: line, as: UTF8.self).trimmingWhitespace()
        if text.hasPrefix("HTTP/") {
            let parts = text.split(separator: " ")
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            headers = []
        } else if let colon = text.firstIndex(of: ":") {
            headers.append(
                (text[..<colon].lowercased(), String(text[text.index(after: colon)...].trimmingWhitespace())))
        }
    }

    private var streaming: Bool { onBytes != nil && (200..<300).contains(status) }

    private func write(_ bytes: UnsafeRawBufferPointer) -> Int {
        if !headSent {
            headSent = true
            if streaming { onHead?(status, headers) }
        }
        guard streaming, let onBytes else {
            if collected.count + bytes.count <= Self.collectLimit {
                collected.append(contentsOf: bytes)
            } else {
                overflowed = true
            }
            return bytes.count
        }
        if pauseRequested {
            paused = true
            return Int(CURL_WRITEFUNC_PAUSE)  // libcurl keeps these bytes and gives them again after the resume
        }
        delivered = true
        if !onBytes(bytes) { pauseRequested = true }
        return bytes.count
    }

    /// Loop thread: libcurl is done with it.
    func finished(_ code: CURLcode) {
        guard code == CURLE_OK else {
            let message = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
            return complete(.failure(.transport(code: Int(code.rawValue), message: message)))
        }
        if !headSent, streaming {
            headSent = true
            onHead?(status, headers)
        }
        if acceptAnyStatus {
            if overflowed {
                return complete(.failure(.invalidResponse("the answer is larger than \(Self.collectLimit) bytes")))
            }
            return complete(.success(S3Response(status: status, headers: headers, body: collected)))
        }
        guard (200..<300).contains(status) else {
            let parsed = XMLScan(collected)
            return complete(
                .failure(
                    .service(status: status, code: parsed.first("Code") ?? "", message: parsed.first("Message") ?? "")))
        }
        complete(.success(S3Response(status: status, headers: headers, body: collected)))
    }

    /// Hands the outcome over once and lets go of the transfer's self-reference.
    func complete(_ result: Result<S3Response, S3Error>) {
        guard let completion else { return }
        self.completion = nil
        onHead = nil
        onBytes = nil
        completion(result)
        loop = nil
        context?.release()
        context = nil
    }
}
