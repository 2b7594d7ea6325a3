#if canImport(Glibc)
import Glibc
#endif

/// The state libcurl's callbacks see during one transfer, passed to them through `Unmanaged`.
///
/// Touched only by the thread that runs `curl_easy_perform`, and only during that call.
final class TransferContext {
    /// Where the final response goes.
    let sink: ResponseSink
    /// The file a PUT body is read from, or -1.
    var uploadFD: Int32 = -1
    /// The current response's status (the last status line seen).
    var status = 0
    /// The current response's headers.
    var headers: [(String, String)] = []
    /// True once `responseStarted` returned true for the final response.
    var started = false
    /// Set when a read of the upload file failed.
    var uploadError: String?

    /// Makes a context for one transfer.
    init(sink: ResponseSink) {
        self.sink = sink
    }

    /// Handles one header line (status line, header field or the blank line ending a block), as libcurl hands it
    /// over: the bytes of one line with its CR LF.
    ///
    /// Works on the bytes: a `String` per line, trimmed by Unicode scalars, cost more than the rest of a small
    /// file's request (issue 17). Names and values are decoded as UTF-8 (invalid bytes repaired), as before.
    func headerLine(_ line: UnsafeRawBufferPointer) -> Bool {
        var end = line.count
        while end > 0, line[end - 1] == UInt8(ascii: "\r") || line[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        let bytes = UnsafeRawBufferPointer(rebasing: line[0..<end])
        if bytes.starts(with: "HTTP/".utf8) {
            status = Self.statusCode(bytes)
            headers.removeAll(keepingCapacity: true)
            started = false
        } else if bytes.isEmpty {
            let isInterim = (100..<200).contains(status)
            let isFollowedRedirect =
                (300..<400).contains(status) && headers.contains { HTTPResponse.sameName($0.0, "location") }
            if !isInterim && !isFollowedRedirect {
                started = true
                return sink.responseStarted(HTTPResponse(status: status, headers: headers))
            }
        } else if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            var start = colon + 1
            while start < end, bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t") { start += 1 }
            headers.append(
                (
                    String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<colon]), as: UTF8.self),
                    String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start...]), as: UTF8.self)
                ))
        }
        return true
    }

    /// The status code of a status line (`HTTP/1.1 200 OK`): the digits of its second field, 0 when there are none
    /// or too many.
    private static func statusCode(_ line: UnsafeRawBufferPointer) -> Int {
        guard let space = line.firstIndex(of: UInt8(ascii: " ")) else { return 0 }
        var code = 0
        var digits = 0
        for byte in line[(space + 1)...] {
            if byte == UInt8(ascii: " ") { break }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte), digits < 9 else { return 0 }
            code = code * 10 + Int(byte - UInt8(ascii: "0"))
            digits += 1
        }
        return code
    }

    /// Handles a piece of body. Bodies of interim responses and followed redirects never reach the sink.
    func body(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard started else { return true }
        return sink.received(bytes)
    }

    /// Fills `buffer` from the upload file; returns the count, 0 at the end, or nil on a read error.
    func readUpload(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        while true {
            let n = read(uploadFD, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            uploadError = "cannot read the upload body: \(String(cString: strerror(errno)))"
            return nil
        }
    }
}
