import Glibc

/// Owns the one listening TCP socket all loops accept from; bound once, so port 0 works with any thread count.
/// Immutable after `init`; `deinit` closes it (after every loop has stopped).
final class ListeningSocket: Sendable {
    /// The socket descriptor (non-blocking).
    let fd: Int32
    /// The port actually bound.
    let port: Int

    /// Resolves `host` (literal or name), binds the first address that works, and listens.
    init(host: String, port: Int, backlog: Int32 = 1024) throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw HTTPServerError(call: "getaddrinfo", message: "\(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = HTTPServerError(call: "bind", message: "no address for \(host)")
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = socket(
                info.pointee.ai_family,
                info.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue),
                info.pointee.ai_protocol)
            guard fd >= 0 else { lastError = .system("socket"); continue }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
                lastError = .system("bind \(host):\(port)")
                close(fd)
                continue
            }
            guard listen(fd, backlog) == 0 else { lastError = .system("listen"); close(fd); continue }
            self.fd = fd
            self.port = ListeningSocket.boundPort(fd)
            return
        }
        throw lastError
    }

    private static func boundPort(_ fd: Int32) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        return SocketAddress.port(of: storage)
    }

    deinit { close(fd) }
}
