import Foundation

/// A parsed HTTP response as seen on the wire.
public struct RawHTTPResponse: Sendable {
    /// Status code.
    public let status: Int
    /// The status line as sent.
    public let statusLine: String
    /// Header fields in order.
    public let headers: [(String, String)]
    /// The body bytes.
    public let body: [UInt8]

    /// The first value of a header, case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a raw HTTP exchange failed.
public struct RawHTTPError: Error, CustomStringConvertible {
    public let description: String
}

/// A deliberately small HTTP/1.1 client over one TCP connection, for tests that must see exactly what goes on the
/// wire: malformed requests, pipelining, keep-alive, closes.
public final class RawHTTPClient {
    private let fd: Int32
    private var buffer: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; reads time out after `timeout` seconds.
    public init(port: Int, timeout: TimeInterval = 10) throws {
        // The descriptor is stored only once connected: a throwing initializer of a fully initialized class runs
        // `deinit`, whose close after this one's would close whatever socket another thread opened meanwhile.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError(description: "socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let error = errno
            close(fd)
            throw RawHTTPError(description: "connect: \(error)")
        }
        self.fd = fd
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    /// Sends raw bytes; false when the peer has closed.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    /// Sends raw text.
    @discardableResult
    public func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Sends a request with `Host` and, when there is a body, `Content-Length` added.
    public func request(
        _ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = []
    ) throws -> RawHTTPResponse {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "PUT" || method == "POST" || method == "PATCH" {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        guard send(Array(head.utf8) + body) else { throw RawHTTPError(description: "connection closed while sending") }
        return try readResponse(isHead: method == "HEAD")
    }

    /// Reads one response. `isHead` means no body follows whatever Content-Length says.
    public func readResponse(isHead: Bool = false) throws -> RawHTTPResponse {
        let headEnd = try fill(until: { buf in buf.firstRange(of: [13, 10, 13, 10]).map { $0.upperBound } })
        let headText = String(decoding: buffer[..<(headEnd - 4)], as: UTF8.self)
        buffer.removeFirst(headEnd)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else {
            throw RawHTTPError(description: "bad status line \(statusLine)")
        }
        var headers: [(String, String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append(
                (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let response = { (body: [UInt8]) in
            RawHTTPResponse(status: status, statusLine: statusLine, headers: headers, body: body)
        }
        if isHead || status == 204 || status == 304 || (100..<200).contains(status) { return response([]) }
        if let lengthText = headers.first(where: { $0.0.lowercased() == "content-length" })?.1,
            let length = Int(lengthText)
        {
            _ = try fill(until: { $0.count >= length ? length : nil })
            let body = Array(buffer[..<length])
            buffer.removeFirst(length)
            return response(body)
        }
        // No length: the body runs to the close.
        while try readMore() {}
        let body = buffer
        buffer.removeAll()
        return response(body)
    }

    /// True when the server has sent something (or closed) within `timeout` seconds; reads nothing.
    public func hasInput(within timeout: TimeInterval) -> Bool {
        if !buffer.isEmpty { return true }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&pfd, 1, Int32(timeout * 1000)) > 0
    }

    /// True when the server has closed the connection (reads return end of file) within the read timeout.
    public func isClosedByPeer() -> Bool {
        while true {
            do { if try !readMore() { return true } } catch { return false }
        }
    }

    private func readMore() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        if n < 0 {
            if errno == ECONNRESET { return false }
            throw RawHTTPError(description: errno == EAGAIN ? "read timed out" : "recv: \(errno)")
        }
        if n == 0 { return false }
        buffer.append(contentsOf: chunk[..<n])
        return true
    }

    private func fill(until done: ([UInt8]) -> Int?) throws -> Int {
        while true {
            if let index = done(buffer) { return index }
            guard try readMore() else { throw RawHTTPError(description: "connection closed by peer") }
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate func firstRange(of needle: [UInt8]) -> Range<Int>? {
        guard count >= needle.count else { return nil }
        for start in 0...(count - needle.count)
        where self[start] == needle[0] && Array(self[start..<start + needle.count]) == needle {
            return start..<start + needle.count
        }
        return nil
    }
}
