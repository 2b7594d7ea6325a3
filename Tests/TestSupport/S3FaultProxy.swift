import Foundation

/// A loopback HTTP proxy in front of an S3 endpoint that breaks chosen requests on purpose: it answers an error in
/// S3's XML form, stalls, or cuts the answer short. Requests go through one per connection (`Connection: close`).
/// Signatures survive: the `Host` header is passed on unchanged, so the endpoint checks the one that was signed.
public final class S3FaultProxy: @unchecked Sendable {
    // @unchecked Sendable: `rules` and `log` are only touched while `lock` is held; the rest is set once.
    /// What to do to a request that matches.
    public enum Fault: Sendable {
        /// Answer this status with an S3 error body of this code, without passing the request on.
        case status(Int, code: String)
        /// Read the request, then say nothing (until the client gives up).
        case stall
        /// Pass the request on, but close after this many bytes of the answer (head included).
        case cut(afterBytes: Int)
    }

    /// A fault for the next `count` requests whose method and target match.
    public struct Rule: Sendable {
        public let method: String
        /// A piece the request target must contain (e.g. "partNumber=", "uploadId=").
        public let targetContains: String
        public var count: Int
        public let fault: Fault
        public init(_ method: String, _ targetContains: String, count: Int = 1, _ fault: Fault) {
            self.method = method
            self.targetContains = targetContains
            self.count = count
            self.fault = fault
        }
    }

    public let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var rules: [Rule] = []
    private var applied: [String] = []

    /// Listens on a free 127.0.0.1 port and passes requests to `upstreamPort`.
    public init(upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = FreePort.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else { throw MotoServerError(message: "the fault proxy cannot listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = fd
        let listener = self.listener
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                Thread.detachNewThread { self.serve(client) }
            }
        }
    }

    /// `http://127.0.0.1:PORT`.
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Adds a rule (checked in the order added).
    public func add(_ rule: Rule) { lock.withLock { rules.append(rule) } }

    /// Drops every rule not used up yet: requests pass through again.
    public func clear() { lock.withLock { rules.removeAll() } }

    /// The faults applied so far, as "METHOD target fault".
    public var log: [String] { lock.withLock { applied } }

    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func fault(for method: String, _ target: String) -> Fault? {
        lock.withLock {
            guard
                let index = rules.firstIndex(where: {
                    $0.count > 0 && $0.method == method && target.contains($0.targetContains)
                })
            else { return nil }
            rules[index].count -= 1
            applied.append("\(method) \(target) \(rules[index].fault)")
            return rules[index].fault
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var headEnd: Int?
        while headEnd == nil {
            let n = read(client, &buffer, buffer.count)
            if n <= 0 { return }
            request += buffer[..<n]
            headEnd = Self.find([13, 10, 13, 10], in: request).map { $0 + 4 }
        }
        let head = String(decoding: request[..<headEnd!], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return }
        let method = String(parts[0]), target = String(parts[1])
        let length =
            lines.compactMap { line -> Int? in
                let pieces = line.split(separator: ":", maxSplits: 1)
                guard pieces.count == 2, pieces[0].lowercased() == "content-length" else { return nil }
                return Int(pieces[1].trimmingCharacters(in: .whitespaces))
            }.first ?? 0
        while request.count < headEnd! + length {
            let n = read(client, &buffer, buffer.count)
            if n <= 0 { return }
            request += buffer[..<n]
        }
        let fault = fault(for: method, target)
        switch fault {
        case .status(let status, let code)?:
            let body =
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>\(code)</Code><Message>injected</Message></Error>"
            let answer =
                "HTTP/1.1 \(status) Injected\r\nContent-Type: application/xml\r\nContent-Length: \(body.utf8.count)\r\n"
                + "Connection: close\r\n\r\n" + (method == "HEAD" ? "" : body)
            Self.writeAll(client, Array(answer.utf8))
            return
        case .stall?:
            sleep(120)
            return
        case .cut?, nil:
            break
        }
        // Pass it on with `Connection: close`, so the answer ends with the connection.
        var rewritten = lines.filter { !$0.lowercased().hasPrefix("connection:") && !$0.isEmpty }
        rewritten.append("Connection: close")
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(upstream) }
        var address = FreePort.loopback(port: upstreamPort)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return }
        Self.writeAll(upstream, Array((rewritten.joined(separator: "\r\n") + "\r\n\r\n").utf8) + request[headEnd!...])
        var limit = Int.max
        if case .cut(let bytes)? = fault { limit = bytes }
        var sent = 0
        while sent < limit {
            let n = read(upstream, &buffer, buffer.count)
            if n <= 0 { return }
            let take = min(n, limit - sent)
            Self.writeAll(client, Array(buffer[..<take]))
            sent += take
        }
        // Cut: close without the rest (and with a reset, as a dropped connection would look).
        var hard = linger(l_onoff: 1, l_linger: 0)
        setsockopt(client, SOL_SOCKET, SO_LINGER, &hard, socklen_t(MemoryLayout<linger>.size))
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            done += n
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count)
        where haystack[i] == needle[0] && Array(haystack[i..<(i + needle.count)]) == needle {
            return i
        }
        return nil
    }
}
