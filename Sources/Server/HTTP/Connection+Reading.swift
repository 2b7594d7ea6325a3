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
    ///
    /// A head that is whole in `data` is read by `HeadScanner` and its body framed here by `Content-Length`; any
    /// other head (split across reads, or unusual: see `HeadScanner`) goes to http_parser, which then frames that
    /// request's body too.
    @discardableResult
    func feed(_ data: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        while state == .readingHead || (state == .readingBody && !request.bodyPaused) {
            if state == .readingBody, let remaining = request.bodyRemaining {
                if remaining == 0 {
                    request.bodyRemaining = nil
                    messageComplete()
                    continue
                }
                guard offset < data.count else { break }
                let take = Int(min(Int64(data.count - offset), remaining))
                let chunk = UnsafeRawBufferPointer(rebasing: data[offset..<(offset + take)])
                offset += take
                request.bytesIn += Int64(take)
                request.bodyRemaining = remaining - Int64(take)
                if let event = consumeBody(chunk) { handle(event) }
                continue
            }
            guard offset < data.count else { break }
            let rest = UnsafeRawBufferPointer(rebasing: data[offset...])
            if state == .readingHead, !request.started,
                let head = HeadScanner.scan(rest, into: &request, configuration: loop.configuration)
            {
                _ = onMessageBegin()
                offset += head.length
                request.bytesIn += Int64(head.length)
                request.scanned = head
                request.bodyRemaining = head.contentLength ?? 0
                headersComplete()
                continue
            }
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
                if let event { handle(event) }
                continue
            }
            reject(request.rejection ?? parserRejection(error))
            return offset
        }
        return offset
    }

    /// Acts on why parsing paused.
    private func handle(_ event: ParserEvent) {
        switch event {
        case .headersComplete: headersComplete()
        case .messageComplete: messageComplete()
        case .consumerStopped(let response):
            request.forceClose = true
            startResponse(response)
        case .consumerPaused:
            request.bodyPaused = true  // ends the loop: the rest waits in the stash
        }
    }

    /// True when input after the current request waits for its response (pipelining); not when the connection
    /// closes after it.
    var keepsUnparsedInput: Bool {
        ((state == .waitingForResponse || state == .writing) && !request.forceClose && !closeAfterResponse)
            || (state == .readingBody && request.bodyPaused)
    }

    /// Parses bytes that arrived while the previous response was pending.
    func resumeFromStash() {
        guard state == .readingHead || (state == .readingBody && !request.bodyPaused) else { return }
        guard !stash.isEmpty else {
            // A body the layer frames may be complete with nothing left to read (a decision or a resume came later).
            if state == .readingBody, request.bodyRemaining == 0 { feed(UnsafeRawBufferPointer(start: nil, count: 0)) }
            return
        }
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
