import CEvent
import Glibc

extension EventLoop {
    /// Accepts what is waiting (a bounded batch, for fairness between loops) and deals the connections round robin
    /// over the server's loops: this one opens its share, the others get theirs through their mailboxes. `secure`
    /// when `listener` is a TLS port.
    func acceptConnections(from listener: ListeningSocket, secure: Bool) {
        assertInEventLoop()
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
                refuseBusy(fd, secure: secure)
                continue
            }
            // Counted now, by the accepting loop, so the cap holds while a hand-off is in flight.
            openConnections.value.add(1, ordering: .relaxed)
            let remoteAddress = SocketAddress.host(of: storage)
            if let owner = group.nextMailbox(), owner !== mailbox {
                owner.post(.adopt(fd: fd, remoteAddress: remoteAddress, secure: secure))
            } else {
                open(fd: fd, remoteAddress: remoteAddress, secure: secure)
            }
        }
    }

    /// Opens a connection on this loop for an accepted socket already counted in `openConnections`; with `secure`
    /// it speaks TLS with the certificate current now (a later reload does not change it).
    func open(fd: Int32, remoteAddress: String, secure: Bool) {
        nextID += 1
        do {
            var session: TLSSession?
            if secure, let tlsStore { session = try TLSSession(context: tlsStore.current, fd: fd) }
            let connection = try Connection(id: nextID, fd: fd, remoteAddress: remoteAddress, loop: self, tls: session)
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
        guard let oldest = connections.values.filter(\.isIdle).min(by: { $0.idleSince < $1.idleSince }) else {
            return false
        }
        oldest.close()
        return true
    }

    /// Answers 503 on a connection over the cap and closes it (best effort: one non-blocking send). A TLS
    /// connection is closed without an answer (no handshake yet to carry one).
    private func refuseBusy(_ fd: Int32, secure: Bool) {
        guard !secure else { close(fd); return }
        let response = HTTPResponse.error(
            status: .serviceUnavailable, name: .serviceUnavailable, description: "too many connections")
        var bytes = response.serializedHead(isHead: false, close: true, keepAliveHeader: false)
        if case .bytes(let body) = response.body { bytes += body }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        shutdown(fd, Int32(SHUT_WR))
        close(fd)
    }
}
