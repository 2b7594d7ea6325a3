import CEvent
import Glibc

extension EventLoop {
    /// Accepts what is waiting (a bounded batch, for fairness between loops) and deals the connections round robin
    /// over the server's loops: this one opens its share, the others get theirs through their mailboxes.
    func acceptConnections() {
        for _ in 0..<64 {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept(listener.fd, $0, &length)
                }
            }
            guard fd >= 0 else { return }  // EAGAIN (another loop took it), or EMFILE and friends: retry next time
            // accept4 is not visible from Swift's Glibc module; libevent's helpers do the same in two calls.
            evutil_make_socket_nonblocking(fd)
            evutil_make_socket_closeonexec(fd)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if openConnections.value.load(ordering: .relaxed) >= configuration.maxConnections && !evictOldestIdle() {
                refuseBusy(fd)
                continue
            }
            // Counted now, by the accepting loop, so the cap holds while a hand-off is in flight.
            openConnections.value.add(1, ordering: .relaxed)
            let remoteAddress = SocketAddress.host(of: storage)
            if let owner = group.nextLoop(), owner !== self {
                owner.post(.adopt(fd: fd, remoteAddress: remoteAddress))
            } else {
                open(fd: fd, remoteAddress: remoteAddress)
            }
        }
    }

    /// Opens a connection on this loop for an accepted socket already counted in `openConnections`.
    func open(fd: Int32, remoteAddress: String) {
        nextID += 1
        do {
            let connection = try Connection(id: nextID, fd: fd, remoteAddress: remoteAddress, loop: self)
            connections[connection.id] = connection
            try connection.open()
        } catch {
            if let connection = connections[nextID] { connection.close() } else { discardAdopted(fd) }
        }
    }

    /// Closes an accepted socket that never became a connection, and uncounts it.
    func discardAdopted(_ fd: Int32) {
        close(fd)
        openConnections.value.subtract(1, ordering: .relaxed)
    }

    /// Closes this loop's longest-idle keep-alive connection; false when it has none.
    private func evictOldestIdle() -> Bool {
        guard let oldest = connections.values.filter(\.isIdle).min(by: { $0.idleSince < $1.idleSince }) else { return false }
        oldest.close()
        return true
    }

    /// Answers 503 on a connection over the cap and closes it (best effort: one non-blocking send).
    private func refuseBusy(_ fd: Int32) {
        let response = HTTPResponse.error(status: .serviceUnavailable, name: .serviceUnavailable, description: "too many connections")
        var bytes = response.serializedHead(isHead: false, close: true, keepAliveHeader: false)
        if case .bytes(let body) = response.body { bytes += body }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        shutdown(fd, Int32(SHUT_WR))
        close(fd)
    }
}
