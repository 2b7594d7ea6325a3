extension HTTPResponse {
    /// Whether this status may carry a body (not 1xx, 204 or 304).
    var allowsBody: Bool { !(100..<200).contains(status) && status != 204 && status != 304 }

    /// The status line and headers, ending with the empty line.
    ///
    /// The layer owns framing: it writes `Content-Length` (the body's, or the handler's own on a HEAD response)
    /// and `Connection`, drops any `Transfer-Encoding`, and skips fields whose name or value holds CR, LF or NUL.
    func serializedHead(isHead: Bool, close: Bool, keepAliveHeader: Bool) -> [UInt8] {
        // Built as bytes (not string interpolation): it runs once per response.
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        out.append(contentsOf: String(status).utf8)
        out.append(0x20)
        out.append(contentsOf: HTTPStatus.reasonPhrase(status).utf8)
        out.append(contentsOf: "\r\n".utf8)
        var ownLength: String?
        for (name, value) in headers {
            if HTTPHeaders.equalNames(name, "Content-Length") {
                ownLength = value
                continue
            }
            if HTTPHeaders.equalNames(name, "Connection") || HTTPHeaders.equalNames(name, "Transfer-Encoding") { continue }
            guard Self.isSafe(name), Self.isSafe(value) else { continue }
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: value.utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        if allowsBody {
            let length = isHead ? (ownLength.flatMap { Int64($0) } ?? body.count) : body.count
            out.append(contentsOf: "Content-Length: ".utf8)
            out.append(contentsOf: String(length).utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        if close {
            out.append(contentsOf: "Connection: close\r\n".utf8)
        } else if keepAliveHeader {
            out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        out.append(contentsOf: "\r\n".utf8)
        return out
    }

    private static func isSafe(_ text: String) -> Bool {
        !text.utf8.contains { $0 == 13 || $0 == 10 || $0 == 0 }
    }
}
