extension Connection {
    /// Validates the complete head, asks the handler, and sets up what happens to the body.
    func headersComplete() {
        let scanned = request.scanned
        let version = scanned?.version ?? parser.version
        // A scanned head has at most one Content-Length, all digits, and no Transfer-Encoding (see `HeadScanner`).
        let refusal =
            scanned.map { headRefusal(version: version, hosts: $0.hosts) } ?? validateHead(version: version)
        if let refusal {
            reject(refusal)
            return
        }
        let headers = request.headers
        let contentLength = scanned.map(\.contentLength) ?? headers["Content-Length"].flatMap { Int64($0) }
        var head = HTTPRequestHead(
            method: scanned?.method ?? parser.method, target: String(decoding: request.url, as: UTF8.self),
            version: version, headers: headers, contentLength: contentLength,
            remoteAddress: remoteAddress)
        if tls != nil { head.isSecure = true }
        request.method = head.method
        request.path = head.path
        request.version = version
        request.isHead = head.isHead
        keepAlive = scanned?.keepAlive ?? parser.keepAlive
        state = .readingBody
        request.hasBody = (contentLength ?? 0) > 0
        request.expectsContinue =
            version == .http11
            && (scanned?.expectsContinue ?? (headers["Expect"]?.lowercased() == "100-continue"))
        act(on: loop.handler.handle(head))
    }

    /// Sets up what the handler's `action` asks for (from `headersComplete`, or later from an `HTTPDecider`).
    private func act(on action: HTTPRequestAction) {
        let hasBody = request.hasBody
        switch action {
        case .respond(let response):
            if hasBody {
                request.forceClose = true
                startResponse(response)
            } else {
                request.decision = .response(response)
            }
        case .respondLater(let answer):
            if hasBody {
                request.forceClose = true
                state = .waitingForResponse
                armTimer()
                updateReadInterest()
                answer(makeResponder())
            } else {
                request.decision = .later(answer)
            }
        case .readBody(let consumer):
            request.decision = .consumer(consumer)
            if hasBody {
                if request.expectsContinue {
                    output.append(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                    flush()
                }
                lastReadProgress = monotonicNow()
                armTimer()
            }
        case .decideLater(let start):
            // Read and parse nothing until the decision (what arrived waits in the stash), as a paused body does.
            request.decisionPending = true
            request.bodyPaused = true
            updateReadInterest()
            armTimer()
            start(HTTPDecider(loop: loop, connection: id, sequence: sequence))
        }
    }

    /// An `HTTPDecider`'s decision arrived: act on it, then parse on (the stash first).
    func decided(sequence: UInt64, _ action: () -> HTTPRequestAction) {
        loop.assertInEventLoop()
        guard sequence == self.sequence, state == .readingBody, request.decisionPending else { return }
        request.decisionPending = false
        request.bodyPaused = false
        act(on: action())
        guard state == .readingBody || state == .readingHead else { return }
        lastReadProgress = monotonicNow()
        resumeFromStash()
        guard state != .closed else { return }
        armTimer()
        updateReadInterest()
    }

    /// The request (and its body, if read) is complete: act on the handler's decision.
    func messageComplete() {
        switch request.decision {
        case .response(let response)?:
            startResponse(response)
        case .later(let answer)?:
            state = .waitingForResponse
            armTimer()
            answer(makeResponder())
        case .consumer(let consumer)?:
            state = .waitingForResponse
            armTimer()
            consumer.end(responder: makeResponder())
        case nil:
            reject(
                .error(
                    status: .internalServerError, name: .internalServerError, description: "no decision for the request"
                ))
        }
    }

    /// The checks http_parser 2.9.4 does not make (see the server issue), over the fields it read.
    private func validateHead(version: HTTPVersion) -> HTTPResponse? {
        // One pass over the fields (not a `values` array and a `Set` per name: they were 4% of a small GET).
        var hosts = 0, transferEncoding = false, length: String?, lengthsDiffer = false
        for (name, value) in request.headers {
            if HTTPHeaders.equalNames(name, "Host") {
                hosts += 1
            } else if HTTPHeaders.equalNames(name, "Content-Length") {
                if let first = length, first != value { lengthsDiffer = true }
                length = length ?? value
            } else if HTTPHeaders.equalNames(name, "Transfer-Encoding") {
                transferEncoding = true
            }
        }
        return headRefusal(
            version: version, hosts: hosts, transferEncoding: transferEncoding, lengthsDiffer: lengthsDiffer,
            badLength: length.map { Int64($0) == nil } ?? false)
    }

    /// The refusal for a head with these properties, if any, in the order a client would fix them.
    private func headRefusal(
        version: HTTPVersion, hosts: Int, transferEncoding: Bool = false, lengthsDiffer: Bool = false,
        badLength: Bool = false
    ) -> HTTPResponse? {
        if version != .http10 && version != .http11 {
            return .error(
                status: .badRequest, name: .badRequest, description: "HTTP version must be 1.0 or 1.1, got \(version)")
        }
        if transferEncoding {
            return .error(
                status: .lengthRequired, name: .lengthRequired,
                description: "request bodies need Content-Length; Transfer-Encoding is not accepted")
        }
        if hosts > 1 {
            return .error(status: .badRequest, name: .badRequest, description: "more than one Host header")
        }
        if version == .http11, hosts == 0 {
            // RFC 9112 section 3.2: an HTTP/1.1 request without Host must be answered 400.
            return .error(
                status: .badRequest, name: .badRequest, description: "an HTTP/1.1 request needs a Host header")
        }
        if lengthsDiffer {
            return .error(status: .badRequest, name: .badRequest, description: "Content-Length headers that differ")
        }
        if badLength {
            return .error(
                status: .badRequest, name: .badRequest, description: "Content-Length must be a decimal number")
        }
        return nil
    }

    /// A responder for the current request, usable from any thread.
    func makeResponder() -> HTTPResponder {
        ConnectionResponder(loop: loop, connection: id, sequence: sequence)
    }
}
