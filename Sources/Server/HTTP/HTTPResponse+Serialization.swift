extension HTTPResponse {
    /// Whether this status may carry a body (not 1xx, 204 or 304).
    var allowsBody: Bool { !(100..<200).contains(status) && status != 204 && status != 304 }

    /// The status line and headers, ending with the empty line.
    ///
    /// The layer owns framing: it writes `Content-Length` (the body's, or the handler's own on a HEAD response)
    /// and `Connection`, drops any `Transfer-Encoding`, and skips fields whose name or value holds CR, LF or NUL.
    func serializedHead(isHead: Bool, close: Bool, keepAliveHeader: Bool) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(HTTPStatus.reasonPhrase(status))\r\n"
        var ownLength: String?
        for (name, value) in headers {
            if HTTPHeaders.equalNames(name, "Content-Length") {
                ownLength = value
                continue
            }
            if HTTPHeaders.equalNames(name, "Connection") || HTTPHeaders.equalNames(name, "Transfer-Encoding") { continue }
            guard Self.isSafe(name), Self.isSafe(value) else { continue }
            text += "\(name): \(value)\r\n"
        }
        if allowsBody {
            let length = isHead ? (ownLength.flatMap { Int64($0) } ?? body.count) : body.count
            text += "Content-Length: \(length)\r\n"
        }
        if close {
            text += "Connection: close\r\n"
        } else if keepAliveHeader {
            text += "Connection: keep-alive\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    private static func isSafe(_ text: String) -> Bool {
        !text.utf8.contains { $0 == 13 || $0 == 10 || $0 == 0 }
    }
}
