import CHTTPParser
import Glibc

extension Connection {
    /// A new request begins: its head deadline starts now (a new connection's started at accept).
    func onMessageBegin() -> Int32 {
        request.started = true
        request.startDate = wallClockNow()
        request.startTime = monotonicNow()
        if requestsServed > 0 {
            headStart = request.startTime
            armTimer()
        }
        return 0
    }

    /// More request-target bytes.
    func onURL(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        request.url.appendBytes(bytes)
        request.headBytes += bytes.count
        if request.url.count > loop.configuration.maxHeaderLineBytes {
            return refuse(
                .error(
                    status: .uriTooLong, name: .uriTooLong,
                    description: "the request line is longer than \(loop.configuration.maxHeaderLineBytes) bytes"))
        }
        return checkHead(bytes)
    }

    /// More header-name bytes; a name after a value ends the previous field.
    func onHeaderField(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        if request.inValue {
            if let refusal = commitField() { return refuse(refusal) }
        }
        request.field.appendBytes(bytes)
        request.headBytes += bytes.count
        return checkLine(bytes)
    }

    /// More header-value bytes.
    func onHeaderValue(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        request.inValue = true
        request.value.appendBytes(bytes)
        request.headBytes += bytes.count
        return checkLine(bytes)
    }

    /// The head is complete: pause so `feed` validates it and asks the handler outside the callback.
    func onHeadersComplete() -> Int32 {
        if request.inValue || !request.field.isEmpty {
            if let refusal = commitField() { return refuse(refusal) }
        }
        pendingEvent = .headersComplete
        parser.pause()
        return 0
    }

    /// Body bytes go straight to the consumer, without a copy.
    func onBody(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        if let event = consumeBody(bytes) {
            pendingEvent = event
            parser.pause()
        }
        return 0
    }

    /// Hands body bytes to the consumer, if the handler asked for one; returns what the consumer asks to happen.
    func consumeBody(_ bytes: UnsafeRawBufferPointer) -> ParserEvent? {
        guard case .consumer(let consumer)? = request.decision else { return nil }
        switch consumer.consume(bytes, flow: HTTPBodyFlow(loop: loop, connection: id, sequence: sequence)) {
        case .proceed: return nil
        case .pause: return .consumerPaused
        case .stop(let response): return .consumerStopped(response)
        }
    }

    /// The message is complete: pause so the next pipelined request waits for this one's answer.
    func onMessageComplete() -> Int32 {
        pendingEvent = .messageComplete
        parser.pause()
        return 0
    }

    /// Appends the finished field to the headers, checking the per-request limits and header-name whitespace.
    ///
    /// Over buffer pointers: `contains(where:)`, a trimmed `ArraySlice` and `String(decoding:)` of it cost 2,600
    /// instructions for one `Host` field.
    private func commitField() -> HTTPResponse? {
        defer {
            request.field.removeAll(keepingCapacity: true)
            request.value.removeAll(keepingCapacity: true)
            request.inValue = false
        }
        if request.headers.count >= loop.configuration.maxHeaderCount {
            return .error(
                status: .requestHeaderFieldsTooLarge, name: .requestHeaderFieldsTooLarge,
                description: "more than \(loop.configuration.maxHeaderCount) header fields")
        }
        let name: String? = request.field.withUnsafeBufferPointer { bytes in
            for index in 0..<bytes.count where bytes[index] == 0x20 || bytes[index] == 0x09 { return nil }
            return String(decoding: bytes, as: UTF8.self)
        }
        guard let name else {
            return .error(status: .badRequest, name: .badRequest, description: "whitespace in or before a header name")
        }
        let value = request.value.withUnsafeBufferPointer { bytes in
            var start = 0, end = bytes.count
            while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
            while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        }
        request.headers.add(name, value)
        return nil
    }

    /// Limits for one header line, then for the whole head.
    private func checkLine(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        let limit = loop.configuration.maxHeaderLineBytes
        if request.field.count + request.value.count > limit {
            return refuse(
                .error(
                    status: .badRequest, name: .badRequest, description: "a header line is longer than \(limit) bytes"))
        }
        return checkHead(bytes)
    }

    /// The whole-head size limit and NUL bytes.
    private func checkHead(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        let limit = loop.configuration.maxHeaderBytes
        if request.headBytes + 4 * request.headers.count > limit {
            return refuse(
                .error(
                    status: .requestHeaderFieldsTooLarge, name: .requestHeaderFieldsTooLarge,
                    description: "the request head is longer than \(limit) bytes"))
        }
        // memchr: a byte loop cost 800 instructions a request
        if let base = bytes.baseAddress, memchr(base, 0, bytes.count) != nil {
            return refuse(.error(status: .badRequest, name: .badRequest, description: "NUL byte in the request head"))
        }
        return 0
    }

    /// Records why the layer refuses the request; the return value makes http_parser stop with an error (-1, not
    /// 1: from `on_headers_complete`, 1 would mean "skip the body").
    private func refuse(_ response: HTTPResponse) -> Int32 {
        request.rejection = request.rejection ?? response
        return -1
    }
}

/// The connection behind a parser (its `data` is the connection's unretained context).
private func connection(_ parser: UnsafeMutablePointer<http_parser>?) -> Connection {
    Unmanaged<Connection>.fromOpaque(parser!.pointee.data).takeUnretainedValue()
}

private func buffer(_ at: UnsafePointer<CChar>?, _ length: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: at, count: length)
}

/// The process-wide callback table: capture-free C functions that forward to the connection.
let parserSettings: ParserSettings = {
    let settings = UnsafeMutablePointer<http_parser_settings>.allocate(capacity: 1)
    settings.initialize(to: http_parser_settings())
    settings.pointee.on_message_begin = { connection($0).onMessageBegin() }
    settings.pointee.on_url = { connection($0).onURL(buffer($1, $2)) }
    settings.pointee.on_header_field = { connection($0).onHeaderField(buffer($1, $2)) }
    settings.pointee.on_header_value = { connection($0).onHeaderValue(buffer($1, $2)) }
    settings.pointee.on_headers_complete = { connection($0).onHeadersComplete() }
    settings.pointee.on_body = { connection($0).onBody(buffer($1, $2)) }
    settings.pointee.on_message_complete = { connection($0).onMessageComplete() }
    return ParserSettings(pointer: settings)
}()
