import CHTTPParser
import Glibc

extension Connection {
    /// The socket is readable: read one large block into the loop's shared buffer and parse it in place.
    func readable() {
        if let tls {
            tlsReadable(tls)
            return
        }
        let parsing = state == .readingHead || (state == .readingBody && !request.bodyPaused)
        guard parsing || state == .lingering else {
            updateReadInterest()
            return
        }
        let n = recv(fd, loop.readBuffer, loop.readBufferSize, 0)
        if n > 0 {
            if state == .lingering { return }  // discard what a refused client still sends
            if state == .readingBody { lastReadProgress = monotonicNow() }
            let data = UnsafeRawBufferPointer(start: loop.readBuffer, count: n)
            let used = feed(data)
            if used < n && keepsUnparsedInput {
                stash.append(contentsOf: UnsafeRawBufferPointer(rebasing: data[used...]))
            }
            if state != .closed { updateReadInterest() }
        } else if n == 0 {
            close()  // end of input: a short body aborts in close()
        } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
            close()
        }
    }

    /// Parses `data` (the loop buffer or the stash), acting on each pause, until it is used up or the connection
    /// must first answer the current request; returns how many bytes it parsed.
    @discardableResult
    func feed(_ data: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        while offset < data.count, state == .readingHead || (state == .readingBody && !request.bodyPaused) {
            let rest = UnsafeRawBufferPointer(rebasing: data[offset...])
            let parsed = parser.execute(rest)
            offset += parsed
            request.bytesIn += Int64(parsed)
            let error = parser.errno
            if error == HPE_OK {
                if parsed == 0 {
                    reject(
                        .error(status: .badRequest, name: .badRequest, description: "the request could not be parsed"));
                    return offset
                }
                continue
            }
            if error == HPE_PAUSED {
                parser.resume()
                let event = pendingEvent
                pendingEvent = nil
                switch event {
                case .headersComplete?: headersComplete()
                case .messageComplete?: messageComplete()
                case .consumerStopped(let response)?:
                    request.forceClose = true
                    startResponse(response)
                case .consumerPaused?:
                    request.bodyPaused = true  // ends the loop: the rest waits in the stash
                case nil: break
                }
                continue
            }
            reject(request.rejection ?? parserRejection(error))
            return offset
        }
        return offset
    }

    /// True when input after the current request waits for its response (pipelining); not when the connection
    /// closes after it.
    var keepsUnparsedInput: Bool {
        ((state == .waitingForResponse || state == .writing) && !request.forceClose && !closeAfterResponse)
            || (state == .readingBody && request.bodyPaused)
    }

    /// Parses bytes that arrived while the previous response was pending.
    func resumeFromStash() {
        guard !stash.isEmpty, state == .readingHead || (state == .readingBody && !request.bodyPaused) else { return }
        let pending = stash, start = stashOffset  // `pending` keeps the bytes alive if a close drops `stash`
        let used = pending.withUnsafeBytes { feed(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        guard !stash.isEmpty else { return }  // dropped meanwhile (a linger or a close)
        stashOffset = start + used
        if stashOffset >= stash.count || !keepsUnparsedInput {
            stash.removeAll(keepingCapacity: true)
            stashOffset = 0
        }
    }

    /// Answers a request the layer refuses and closes after the answer.
    func reject(_ response: HTTPResponse) {
        request.forceClose = true
        startResponse(response)
    }

    /// The response for what http_parser rejected.
    private func parserRejection(_ error: http_errno) -> HTTPResponse {
        if error == HPE_HEADER_OVERFLOW {
            return .error(
                status: .requestHeaderFieldsTooLarge, name: .requestHeaderFieldsTooLarge,
                description: "the request head is too large")
        }
        let reason = String(cString: http_errno_description(error))
        return .error(status: .badRequest, name: .badRequest, description: "malformed request: \(reason)")
    }
}
