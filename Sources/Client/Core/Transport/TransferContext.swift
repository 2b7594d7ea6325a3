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

    /// Handles one header line (status line, header field or the blank line ending a block).
    func headerLine(_ line: String) -> Bool {
        let trimmed = line.trimmingSuffix()
        if trimmed.hasPrefix("HTTP/") {
            let parts = trimmed.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            headers.removeAll()
            started = false
        } else if trimmed.isEmpty {
            let isInterim = (100..<200).contains(status)
            let isFollowedRedirect =
                (300..<400).contains(status) && headers.contains { $0.0.lowercased() == "location" }
            if !isInterim && !isFollowedRedirect {
                started = true
                return sink.responseStarted(HTTPResponse(status: status, headers: headers))
            }
        } else if let colon = trimmed.firstIndex(of: ":") {
            let name = String(trimmed[..<colon])
            let value = trimmed[trimmed.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            headers.append((name, String(value)))
        }
        return true
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

extension String {
    /// The string without trailing CR and LF.
    fileprivate func trimmingSuffix() -> Substring {
        // Scalars, not Characters: "\r\n" is a single Character.
        var scalars = Substring(self).unicodeScalars
        while let last = scalars.last, last == "\r" || last == "\n" { scalars.removeLast() }
        return Substring(scalars)
    }
}
