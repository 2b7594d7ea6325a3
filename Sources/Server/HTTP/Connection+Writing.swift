import Glibc

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import FoundationEssentials
#endif

extension Connection {
    /// File bodies up to this size are read into the output buffer rather than sent with sendfile: one `pread`
    /// costs less than a second send call and a second TCP segment for the body alone.
    static let inlineFileLimit: Int64 = 64 * 1024

    /// Queues `response` (head, then body bytes or a sendfile segment); the loop writes it at the end of this
    /// iteration (`EventLoop.endIteration`).
    func startResponse(_ response: HTTPResponse) {
        let isHead = request.isHead
        closeAfterResponse = request.forceClose || response.closeConnection || !keepAlive || loop.stopping
        let headBytes = response.serializedHead(
            isHead: isHead, close: closeAfterResponse,
            keepAliveHeader: keepAlive && request.version == .http10)
        output.append(headBytes)
        var bodyBytes: Int64 = 0
        var streamed: (source: any HTTPBodySource, length: Int64)?
        if isHead || !response.allowsBody {
            response.body.discard()
        } else {
            switch response.body {
            case .empty: break
            case .bytes(let bytes):
                output.append(bytes)
                bodyBytes = Int64(bytes.count)
            case .file(let fd, let offset, let length):
                if length <= 0 {
                    Glibc.close(fd)
                } else if length <= Self.inlineFileLimit {
                    guard output.appendContents(fd: fd, offset: offset, length: Int(length)) else {
                        close()
                        return
                    }
                    bodyBytes = length
                } else if tls != nil {
                    fileBody = TLSFileBody(fd: fd, offset: offset, length: length)  // read in pieces by `tlsFlush`
                    bodyBytes = length
                } else if output.appendFile(fd: fd, offset: offset, length: length) {
                    bodyBytes = length
                } else {
                    close()
                    return
                }
            case .stream(let source, let length):
                if length > 0 {
                    streamed = (source, length)
                    bodyBytes = length
                } else {
                    source.cancel()
                }
            }
        }
        responseBytes = Int64(headBytes.count) + bodyBytes
        responseStatus = response.status
        responseUser = response.logUser
        state = .writing
        lastWriteProgress = monotonicNow()
        responseQueued = true
        loop.scheduleWrite(self)
        if let streamed { beginStream(streamed.source, length: streamed.length) }
    }

    /// Starts writing the response `startResponse` queued, unless the connection closed meanwhile.
    func writeQueuedResponse() {
        guard state == .writing else { return }
        responseQueued = false
        flush()
        // Most responses leave in that one write. Only one still in progress stops reading (backpressure) and
        // needs the write deadline: doing this first cost two epoll_ctl calls per request.
        if state == .writing {
            updateReadInterest()
            armTimer()
        }
    }

    /// Writes what the socket takes (sendfile for file segments); finishes the response once all is out.
    func flush() {
        if let tls {
            tlsFlush(tls)
            return
        }
        while output.count > 0 {
            errno = 0
            let written = output.write(to: fd)
            if written > 0 {
                lastWriteProgress = monotonicNow()
                continue
            }
            // libevent's sendfile path answers 0 (not -1) when the socket would block; errno still says EAGAIN.
            // A 0 with errno clear means the file ended before its segment did.
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                setWriteInterest(true)
                _ = streamPending()
                return
            }
            close()  // peer gone, or the file shrank under a sendfile segment
            return
        }
        setWriteInterest(false)
        if streamPending() { return }  // the rest of a streamed body comes later (`streamBodyReady`)
        if state == .writing { responseFinished() }
    }

    /// The response is out: log it, then close, or get ready for the next request (which may be stashed already).
    func responseFinished() {
        logResponse(bytesSent: responseBytes)
        requestsServed += 1
        responseQueued = false
        endStream()
        // A stop that began while this response waited for the end of its iteration found the connection busy
        // and left it alone: close it now rather than let it wait out `gracefulStopTimeout`.
        if closeAfterResponse || loop.stopping {
            beginLinger()
            return
        }
        state = .readingHead
        request.reset()
        sequence &+= 1
        idleSince = monotonicNow()
        headStart = idleSince
        armTimer()
        updateReadInterest()
        resumeFromStash()  // never inside `feed`: responses are written at the end of the loop iteration
    }

    /// Half-closes and discards input for a short while, so unread request bytes do not turn the close into a
    /// reset that could destroy the response in the client's buffers.
    private func beginLinger() {
        stash = []
        stashOffset = 0
        guard !loop.stopping else { close(); return }
        tls?.sendCloseNotify()
        shutdown(fd, Int32(SHUT_WR))
        state = .lingering
        lingerStart = monotonicNow()
        armTimer()
        updateReadInterest()
    }

    /// Hands one access-log entry to the logger, if any; its line is written at the end of this loop iteration.
    func logResponse(bytesSent: Int64) {
        guard let log = loop.accessLog else { return }
        let started = request.started ? request.startTime : headStart
        let path = request.path ?? String(decoding: request.url.prefix { $0 != 0x3F }, as: UTF8.self)
        let entry = HTTPAccessLogEntry(
            time: Date(timeIntervalSince1970: request.started ? request.startDate : wallClockNow()),
            remoteAddress: remoteAddress, user: responseUser, method: request.method,
            path: path, status: responseStatus, bytesSent: max(bytesSent, 0),
            bytesReceived: request.bytesIn, duration: monotonicNow() - started)
        loop.appendLog(entry, with: log)
    }

    /// A response from a responder, back on the loop thread; dropped unless this request still awaits it.
    func deliver(_ response: HTTPResponse, sequence: UInt64) {
        loop.assertInEventLoop()
        guard state == .waitingForResponse, sequence == self.sequence else {
            response.body.discard()
            return
        }
        startResponse(response)
    }
}
