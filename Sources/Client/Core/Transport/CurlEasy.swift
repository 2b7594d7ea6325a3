import CCurl
import Shared

#if canImport(Glibc)
import Glibc
#endif

/// One libcurl easy handle, reused for many requests so connections are kept alive.
///
/// Owned by one thread at a time; not Sendable.
final class CurlEasy {
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// Connect and stall timeout in seconds.
    let timeout: Double
    /// The CA certificates trusted for https (`CURLOPT_CAINFO`); nil for libcurl's built-in store.
    let caBundle: CABundle?

    /// Bytes libcurl reads from the socket at once (`CURLOPT_BUFFERSIZE`).
    static let receiveBufferSize = 128 * 1024

    /// The `User-Agent` sent with every request.
    static let userAgent = "tooltool-swift/1.0 (libcurl)"

    /// Makes a handle whose transfers give up after `timeout` seconds without connecting or without progress, and
    /// trust the CAs in `caBundle` (nil: the system's) for https.
    init(timeout: Double, caBundle: CABundle?) throws(ClientError) {
        try Curl.initialize()
        guard let handle = curl_easy_init() else { throw ClientError(.network, "curl_easy_init failed") }
        self.handle = handle
        self.timeout = timeout
        self.caBundle = caBundle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// Runs `request` to completion, handing the final response to `sink`.
    ///
    /// Returns the final response's status and headers, or why the transfer failed below HTTP.
    func perform(_ request: HTTPRequest, sink: ResponseSink) throws(ClientError) -> Result<HTTPResponse, TransportError>
    {
        curl_easy_reset(handle)
        errorBuffer[0] = 0
        let context = TransferContext(sink: sink)
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        var lines = request.headers
        if let token = request.bearerToken { lines.append("Authorization: Bearer \(token)") }
        if request.rangeStart > 0 { lines.append("Range: bytes=\(request.rangeStart)-") }
        for line in lines { headerList = curl_slist_append(headerList, line) }

        if case .file(let path, _) = request.body {
            context.uploadFD = open(path, O_RDONLY | O_CLOEXEC)
            guard context.uploadFD >= 0 else { throw FileSystem.error("cannot open", path) }
        }
        defer { if context.uploadFD >= 0 { close(context.uploadFD) } }

        try configure(request, headerList: headerList)
        let opaque = Unmanaged.passRetained(context).toOpaque()
        defer { Unmanaged<TransferContext>.fromOpaque(opaque).release() }
        try Curl.check(tt_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, opaque), "WRITEDATA")
        try Curl.check(tt_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, opaque), "HEADERDATA")
        try Curl.check(tt_curl_setopt_pointer(handle, CURLOPT_READDATA, opaque), "READDATA")

        let code = curl_easy_perform(handle)
        if code == CURLE_OK {
            return .success(HTTPResponse(status: context.status, headers: context.headers))
        }
        var message = errorBuffer[0] != 0 ? String(cString: errorBuffer) : Curl.message(code)
        var kind = Curl.kind(of: code, message: message)
        if !kind.isRetryable {
            let server = TransportError.origin(of: effectiveURL ?? request.url)
            message = TransportError.tlsMessage(kind, curlMessage: message, server: server, trust: caBundle)
        }
        if let reason = sink.abortReason {
            kind = .aborted
            message = reason
        } else if let reason = context.uploadError {
            kind = .aborted
            message = reason
        }
        return .failure(TransportError(kind: kind, message: message))
    }

    /// The URL of the last transfer's last request (after redirects), nil when libcurl has none.
    private var effectiveURL: String? {
        var pointer: UnsafeMutableRawPointer?
        guard tt_curl_getinfo_pointer(handle, CURLINFO_EFFECTIVE_URL, &pointer) == CURLE_OK, let pointer else {
            return nil
        }
        return String(cString: pointer.assumingMemoryBound(to: CChar.self))
    }

    private func configure(_ request: HTTPRequest, headerList: UnsafeMutablePointer<curl_slist>?) throws(ClientError) {
        func long(_ option: CURLoption, _ value: Int, _ name: String) throws(ClientError) {
            try Curl.check(tt_curl_setopt_long(handle, option, value), name)
        }
        func string(_ option: CURLoption, _ value: String, _ name: String) throws(ClientError) {
            try Curl.check(tt_curl_setopt_string(handle, option, value), name)
        }
        try string(CURLOPT_URL, request.url, "URL")
        try Curl.check(tt_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer), "ERRORBUFFER")
        try long(CURLOPT_NOSIGNAL, 1, "NOSIGNAL")
        try string(CURLOPT_PROTOCOLS_STR, "http,https", "PROTOCOLS_STR")
        try string(CURLOPT_REDIR_PROTOCOLS_STR, "http,https", "REDIR_PROTOCOLS_STR")
        try long(CURLOPT_FOLLOWLOCATION, 1, "FOLLOWLOCATION")
        try long(CURLOPT_MAXREDIRS, 10, "MAXREDIRS")
        // Never CURLOPT_UNRESTRICTED_AUTH: libcurl then drops our Authorization header on a redirect to another
        // host or port (tested in ClientTests).
        try long(CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(timeout * 1000)), "CONNECTTIMEOUT_MS")
        try long(CURLOPT_LOW_SPEED_LIMIT, 1, "LOW_SPEED_LIMIT")
        try long(CURLOPT_LOW_SPEED_TIME, max(1, Int(timeout.rounded(.up))), "LOW_SPEED_TIME")
        try string(CURLOPT_USERAGENT, CurlEasy.userAgent, "USERAGENT")
        // libcurl's default 16 KiB receive buffer took a 16 KiB file in two reads and two writes (the head fills the
        // first); curl's command line asks for 100 KiB.
        try long(CURLOPT_BUFFERSIZE, CurlEasy.receiveBufferSize, "BUFFERSIZE")
        if let caBundle { try string(CURLOPT_CAINFO, caBundle.path, "CAINFO") }
        try Curl.check(tt_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList), "HTTPHEADER")
        try Curl.check(
            tt_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, CurlEasy.writeCallback), "WRITEFUNCTION")
        try Curl.check(
            tt_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, CurlEasy.headerCallback), "HEADERFUNCTION")

        switch request.body {
        case .none:
            if request.method != .get { try string(CURLOPT_CUSTOMREQUEST, request.method.name, "CUSTOMREQUEST") }
        case .bytes(let bytes):
            try Curl.check(
                tt_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count)), "POSTFIELDSIZE_LARGE")
            let copied = bytes.withUnsafeBytes { buffer in
                tt_curl_setopt_pointer(
                    handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress))
            }
            try Curl.check(copied, "COPYPOSTFIELDS")
            if request.method != .post { try string(CURLOPT_CUSTOMREQUEST, request.method.name, "CUSTOMREQUEST") }
        case .file(_, let size):
            try long(CURLOPT_UPLOAD, 1, "UPLOAD")
            try Curl.check(tt_curl_setopt_off(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(size)), "INFILESIZE_LARGE")
            try Curl.check(
                tt_curl_setopt_data_callback(handle, CURLOPT_READFUNCTION, CurlEasy.readCallback), "READFUNCTION")
            if request.method != .put { try string(CURLOPT_CUSTOMREQUEST, request.method.name, "CUSTOMREQUEST") }
        }
    }

    private static let writeCallback: tt_curl_data_callback = { data, size, count, user in
        let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
        let length = size * count
        return context.body(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
    }

    private static let headerCallback: tt_curl_data_callback = { data, size, count, user in
        let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
        let length = size * count
        return context.headerLine(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
    }

    private static let readCallback: tt_curl_data_callback = { data, size, count, user in
        let context = Unmanaged<TransferContext>.fromOpaque(user!).takeUnretainedValue()
        let buffer = UnsafeMutableRawBufferPointer(start: data, count: size * count)
        return context.readUpload(into: buffer) ?? Int(CURL_READFUNC_ABORT)
    }
}
