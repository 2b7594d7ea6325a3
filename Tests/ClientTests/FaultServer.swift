import Foundation
import Synchronization

/// One request as the fault server saw it.
struct FaultRequest: Sendable {
    /// `GET`, `PUT`, ...
    let method: String
    /// The request target (path and query).
    let path: String
    /// Header fields in order.
    let headers: [(String, String)]
    /// 0-based number of this request among all the server received.
    let index: Int

    /// The first value of a header, case-insensitively.
    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// What the fault server does with a request.
enum FaultAction: Sendable {
    /// 200 with the bytes, or 206 with the rest for `Range: bytes=N-`.
    case blob([UInt8])
    /// 200 with all the bytes, whatever `Range` says (a server without range support).
    case blobIgnoringRange([UInt8])
    /// Any status, headers and body.
    case respond(status: Int, headers: [(String, String)], body: [UInt8])
    /// 200 announcing every byte, then only the first `after` bytes, then a close.
    case cut([UInt8], after: Int)
    /// 200 announcing every byte, the first `after` bytes, then silence until the client leaves (at most 30 s).
    case stall([UInt8], after: Int)
}

/// A scriptable HTTP/1.1 server on 127.0.0.1, port 0, for the failures a real server should not produce on demand:
/// stalls, cuts, wrong bytes, 5xx, redirects, Retry-After. Records every request. One thread per connection,
/// `Connection: close` on every answer; every loop is bounded.
final class FaultServer: Sendable {
    /// The port it listens on.
    let port: Int
    /// `http://127.0.0.1:PORT`.
    var url: String { "http://127.0.0.1:\(port)" }

    private let listener: Int32
    private let handler: @Sendable (FaultRequest) -> FaultAction
    private let stopped = Atomic<Bool>(false)
    private let log = Mutex<[FaultRequest]>([])
    private let acceptDone = Mutex(false)

    /// Starts listening and answering with `handler`.
    init(_ handler: @escaping @Sendable (FaultRequest) -> FaultAction) throws {
        self.handler = handler
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 64) == 0 else { close(listener); throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = listener
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit { stop() }

    /// Stops accepting; connections in flight end on their own (bounded).
    func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for _ in 0..<100 where !acceptDone.withLock({ $0 }) { usleep(10_000) }
        close(listener)
    }

    /// Every request received so far.
    var requests: [FaultRequest] { log.withLock { $0 } }

    private func acceptLoop() {
        defer { acceptDone.withLock { $0 = true } }
        while !stopped.load(ordering: .acquiring) {
            var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 50) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            Thread.detachNewThread { [self] in serve(client) }
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while buffer.count < 65536 {
            if let end = headEnd(buffer) { buffer = Array(buffer[..<end]); break }
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return }
            buffer.append(contentsOf: chunk[..<n])
        }
        let lines = String(decoding: buffer, as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append(
                (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let request = log.withLock { log in
            let request = FaultRequest(
                method: String(parts[0]), path: String(parts[1]), headers: headers, index: log.count)
            log.append(request)
            return request
        }
        answer(handler(request), to: request, fd: fd)
    }

    private func answer(_ action: FaultAction, to request: FaultRequest, fd: Int32) {
        switch action {
        case .blob(let bytes):
            if let range = request.header("Range"), range.hasPrefix("bytes="), range.hasSuffix("-"),
                let start = Int(range.dropFirst(6).dropLast()), start < bytes.count
            {
                send(
                    fd, status: 206, headers: [("Content-Range", "bytes \(start)-\(bytes.count - 1)/\(bytes.count)")],
                    body: Array(bytes[start...]))
            } else {
                send(fd, status: 200, headers: [], body: bytes)
            }
        case .blobIgnoringRange(let bytes):
            send(fd, status: 200, headers: [], body: bytes)
        case .respond(let status, let headers, let body):
            send(fd, status: status, headers: headers, body: body)
        case .cut(let bytes, let after):
            send(fd, status: 200, headers: [], body: bytes, sendOnly: after)
        case .stall(let bytes, let after):
            send(fd, status: 200, headers: [], body: bytes, sendOnly: after)
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            var scratch = [UInt8](repeating: 0, count: 512)
            for _ in 0..<300 where !stopped.load(ordering: .relaxed) {
                if poll(&pfd, 1, 100) > 0, recv(fd, &scratch, scratch.count, Int32(MSG_DONTWAIT)) == 0 { return }
            }
        }
    }

    private func send(_ fd: Int32, status: Int, headers: [(String, String)], body: [UInt8], sendOnly: Int? = nil) {
        var head =
            "HTTP/1.1 \(status) \(status < 400 ? "OK" : "Error")\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
            head += "Content-Type: application/octet-stream\r\n"
        }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let bytes = Array((head + "\r\n").utf8) + body.prefix(sendOnly ?? body.count)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    private func headEnd(_ buffer: [UInt8]) -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4)
        where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i + 4
        }
        return nil
    }
}
