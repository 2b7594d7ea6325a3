extension HTTPResponse {
    /// Whether this status may carry a body (not 1xx, 204 or 304).
    var allowsBody: Bool { !(100..<200).contains(status) && status != 204 && status != 304 }

    /// The status line and headers, ending with the empty line.
    ///
    /// The layer owns framing: it writes `Content-Length` (the body's, or the handler's own on a HEAD response)
    /// and `Connection`, drops any `Transfer-Encoding`, and skips fields whose name or value holds CR, LF or NUL.
    func serializedHead(isHead: Bool, close: Bool, keepAliveHeader: Bool) -> [UInt8] {
        // Built as bytes with one copy per piece (not string interpolation): it runs once per response.
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.appendUTF8("HTTP/1.1 ")
        out.appendDecimal(Int64(status))
        out.append(0x20)
        out.appendUTF8(HTTPStatus.reasonPhrase(status))
        out.appendUTF8("\r\n")
        var ownLength: String?
        for (name, value) in headers {
            if HTTPHeaders.equalNames(name, "Content-Length") {
                ownLength = value
                continue
            }
            if HTTPHeaders.equalNames(name, "Connection") || HTTPHeaders.equalNames(name, "Transfer-Encoding") { continue }
            guard Self.isSafe(name), Self.isSafe(value) else { continue }
            out.appendUTF8(name)
            out.appendUTF8(": ")
            out.appendUTF8(value)
            out.appendUTF8("\r\n")
        }
        if allowsBody {
            let length = isHead ? (ownLength.flatMap { Int64($0) } ?? body.count) : body.count
            out.appendUTF8("Content-Length: ")
            out.appendDecimal(length)
            out.appendUTF8("\r\n")
        }
        if close {
            out.appendUTF8("Connection: close\r\n")
        } else if keepAliveHeader {
            out.appendUTF8("Connection: keep-alive\r\n")
        }
        out.appendUTF8("\r\n")
        return out
    }

    /// True when `text` holds no CR, LF or NUL.
    ///
    /// Eight bytes at a time look for any byte below 0x20 (all three are); only a word that has one (a tab, say)
    /// is checked byte by byte. A plain byte loop was 4% of a small GET.
    private static func isSafe(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            let count = bytes.count
            guard let base = bytes.baseAddress else { return true }
            let raw = UnsafeRawPointer(base)
            var i = 0
            while i + 8 <= count {
                let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                // Sets a byte's high bit for every byte below 0x20 (and possibly for bytes of 0xA0 and up).
                let low = (word &- 0x2020_2020_2020_2020) & ~word & 0x8080_8080_8080_8080
                if low != 0 {
                    for j in i..<(i + 8) where base[j] == 13 || base[j] == 10 || base[j] == 0 { return false }
                }
                i += 8
            }
            while i < count {
                if base[i] == 13 || base[i] == 10 || base[i] == 0 { return false }
                i += 1
            }
            return true
        }
    }
}
