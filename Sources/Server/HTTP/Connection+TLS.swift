import Glibc

/// A file body going out over TLS, read in pieces (or sent with `SSL_sendfile` under kernel TLS). Owns `fd` and
/// closes it when released. Loop thread only.
final class TLSFileBody {
    /// The open file.
    let fd: Int32
    /// Where the next piece starts.
    var offset: Int64
    /// Bytes still to send.
    var remaining: Int64

    /// Takes ownership of `fd`.
    init(fd: Int32, offset: Int64, length: Int64) {
        self.fd = fd
        self.offset = offset
        self.remaining = length
    }

    deinit { close(fd) }
}

/// TLS on the connection (`tls` set): the same state machine as plain HTTP, with `SSL_read`/`SSL_write` in place of
/// `recv` and `writev`/`sendfile`. A plain connection never comes here: `readable` and `flush` branch once on `tls`.
extension Connection {
    /// Bytes read from a file per `SSL_write` round: the most a TLS connection buffers for a file body.
    static let tlsFilePiece = 64 * 1024
    /// The largest plaintext of one TLS record: a read stops while less room is left, so no decrypted byte is
    /// ever left inside OpenSSL where no readable event would announce it.
    static let tlsRecordPlaintext = 16 * 1024

    /// The socket is readable on a TLS connection.
    func tlsReadable(_ tls: TLSSession) {
        if tls.writeWantsRead {
            tls.writeWantsRead = false
            updateReadInterest()
            flush()
            guard state != .closed else { return }
        }
        if state == .lingering {
            discardLingeringInput()
            return
        }
        if !tls.established {
            continueHandshake(tls)
            return
        }
        readDecrypted(tls)
    }

    /// The socket is writable on a TLS connection: a handshake, a read or a response waits for it.
    func tlsWritable(_ tls: TLSSession) {
        if !tls.established {
            continueHandshake(tls)
            return
        }
        if tls.readWantsWrite {
            tls.readWantsWrite = false
            readDecrypted(tls)
            guard state != .closed else { return }
        }
        flush()  // as a plain connection's writable event does (also for a `100 Continue` that did not fit)
    }

    /// Reads and decrypts what is there (full records in a row, up to the loop's buffer) and parses it.
    private func readDecrypted(_ tls: TLSSession) {
        let parsing = state == .readingHead || (state == .readingBody && !request.bodyPaused)
        guard parsing else {
            updateReadInterest()
            return
        }
        var filled = 0, ended = false
        reading: while loop.readBufferSize - filled >= Self.tlsRecordPlaintext {
            switch tls.read(into: loop.readBuffer + filled, count: loop.readBufferSize - filled) {
            case .done(let n):
                filled += n
                // A record short of the maximum is most likely the last one there (a request, not a bulk body):
                // stop rather than pay a read that finds nothing. More records would make the socket readable again.
                if n < Self.tlsRecordPlaintext { break reading }
            case .wantRead: break reading
            case .wantWrite:
                tls.readWantsWrite = true
                setWriteInterest(true)
                break reading
            case .closed:
                ended = true
                break reading
            case .failed:
                close()
                return
            }
        }
        if filled > 0 {
            if state == .readingBody { lastReadProgress = monotonicNow() }
            let data = UnsafeRawBufferPointer(start: loop.readBuffer, count: filled)
            let used = feed(data)
            if used < filled && keepsUnparsedInput {
                stash.append(contentsOf: UnsafeRawBufferPointer(rebasing: data[used...]))
            }
        }
        guard state != .closed else { return }
        // The client ended its side: a request in progress can never complete; one being answered still is.
        if ended && (state == .readingHead || state == .readingBody) {
            close()
            return
        }
        updateReadInterest()
    }

    /// Checks the first byte (a plain HTTP request gets a plain 400), then drives the handshake; once it is done,
    /// reads what already arrived. The head deadline, armed at accept, covers the handshake.
    private func continueHandshake(_ tls: TLSSession) {
        if !tls.checkedFirstByte {
            var first: UInt8 = 0
            let n = recv(fd, &first, 1, Int32(MSG_PEEK))
            if n == 0 { close(); return }
            if n < 0 {
                if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { close() }
                return
            }
            tls.checkedFirstByte = true
            guard first == 0x16 else {  // a TLS handshake record starts with 22
                refusePlainHTTP()
                return
            }
        }
        switch tls.handshake() {
        case .done:
            setWriteInterest(false)
            readDecrypted(tls)
        case .wantRead:
            setWriteInterest(false)
        case .wantWrite:
            setWriteInterest(true)
        case .closed, .failed:
            close()
        }
    }

    /// Answers a plain HTTP request on the TLS port as nginx does (400 in plain text, naming the mistake), then
    /// closes: half-close and a short linger, so the answer is not lost to a reset.
    private func refusePlainHTTP() {
        _ = recv(fd, loop.readBuffer, loop.readBufferSize, 0)  // the request, so the close sends no reset for it
        let body = "400 Bad Request: a plain HTTP request was sent to the HTTPS port; use https://\n"
        let text =
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Connection: close\r\n\r\n" + body
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        request.forceClose = true
        responseStatus = .badRequest
        shutdown(fd, Int32(SHUT_WR))
        state = .lingering
        lingerStart = monotonicNow()
        armTimer()
        updateReadInterest()
    }

    /// Lingering: whatever still arrives is dropped unread (raw bytes, no decryption) until the peer closes.
    private func discardLingeringInput() {
        let n = recv(fd, loop.readBuffer, loop.readBufferSize, 0)
        if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { close() }
    }

    /// Writes the output buffer through `SSL_write` (refilling it from a file body piece by piece), or a file body
    /// through `SSL_sendfile` under kernel TLS; finishes the response once all is out.
    func tlsFlush(_ tls: TLSSession) {
        while true {
            if output.count == 0 {
                guard let file = fileBody, file.remaining > 0 else { break }
                if tls.kernelSend {
                    switch tls.sendfile(file.fd, offset: file.offset, count: Int(min(file.remaining, 1 << 30))) {
                    case .done(let n):
                        file.offset += Int64(n)
                        file.remaining -= Int64(n)
                        lastWriteProgress = monotonicNow()
                        continue
                    case let other:
                        guard tlsWaits(other, tls) else { close(); return }
                        return
                    }
                }
                let piece = Int(min(file.remaining, Int64(Self.tlsFilePiece)))
                guard output.appendRead(fd: file.fd, offset: file.offset, length: piece) else {
                    close()  // the file shrank or failed: the client must not take a short body for a whole one
                    return
                }
                file.offset += Int64(piece)
                file.remaining -= Int64(piece)
            }
            guard let bytes = output.contiguousPrefix(limit: Self.tlsRecordPlaintext) else { break }
            switch tls.write(bytes.baseAddress!, count: bytes.count) {
            case .done(let n):
                output.drain(n)
                lastWriteProgress = monotonicNow()
            case let other:
                guard tlsWaits(other, tls) else { close(); return }
                _ = streamPending()
                return
            }
        }
        fileBody = nil
        setWriteInterest(false)
        if streamPending() { return }
        if state == .writing { responseFinished() }
    }

    /// Arms the event a blocked write waits for; false when `result` is an error or the end.
    private func tlsWaits(_ result: TLSResult, _ tls: TLSSession) -> Bool {
        switch result {
        case .wantWrite:
            setWriteInterest(true)
            return true
        case .wantRead:
            tls.writeWantsRead = true
            setWriteInterest(false)
            updateReadInterest()
            return true
        case .done, .closed, .failed:
            return false
        }
    }
}
