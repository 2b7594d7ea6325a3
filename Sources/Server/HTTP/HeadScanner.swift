import Glibc
import Shared

/// The layer's own reader of a request head that arrived whole: the request line and the header lines, found with
/// `memchr` for each line end and read in place (no callback per piece, no per-byte state machine).
///
/// It reads only the common, unambiguous form: a method in `methods`, an origin-form target of visible ASCII, exactly
/// `HTTP/1.1` or `HTTP/1.0`, token header names, values of visible ASCII, spaces and tabs, every line ending in CRLF,
/// a single all-digit `Content-Length` and a `Connection` of exactly `close` or `keep-alive`. Anything else (obs-fold,
/// a bare LF, a byte outside those sets, `Transfer-Encoding`, `Upgrade`, a second `Content-Length`, a head near a
/// limit, a head not yet complete) makes it answer nil and leaves the request to http_parser, untouched, so every
/// unusual request is read and refused exactly as before.
enum HeadScanner {
    /// What the scan found, besides the target and fields it wrote into the request state.
    struct Head {
        /// Bytes of the head, its final empty line included.
        var length: Int
        /// The method.
        var method: HTTPMethod
        /// `HTTP/1.1` or `HTTP/1.0`.
        var version: HTTPVersion
        /// The `Content-Length`, or nil when the request has none (then it has no body).
        var contentLength: Int64?
        /// What `http_should_keep_alive` would answer.
        var keepAlive: Bool
        /// How many `Host` fields the head has (the layer allows one, and requires it of HTTP/1.1).
        var hosts: Int
        /// Whether the first `Expect` field is `100-continue` (any case).
        var expectsContinue: Bool
    }

    /// The methods read here, by their wire spelling; others go to http_parser.
    private static let methods: [(name: StaticString, method: HTTPMethod)] = [
        ("GET", .get), ("HEAD", .head), ("PUT", .put), ("POST", .post), ("DELETE", .delete), ("PATCH", .patch),
        ("OPTIONS", .options)
    ]

    /// Scans a head at the start of `bytes`, appending its target to `request.url` and its fields to
    /// `request.headers`; on nil both are left empty and `request.headBytes` is 0.
    static func scan(
        _ bytes: UnsafeRawBufferPointer, into request: inout RequestState, configuration: HTTPServerConfiguration
    ) -> Head? {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        let head = scan(UnsafeBufferPointer(start: base, count: bytes.count), into: &request, configuration)
        if head == nil {
            request.url.removeAll(keepingCapacity: true)
            request.headers.removeAll(keepingCapacity: true)
            request.headBytes = 0
        }
        return head
    }

    private static func scan(
        _ p: UnsafeBufferPointer<UInt8>, into request: inout RequestState, _ configuration: HTTPServerConfiguration
    ) -> Head? {
        let n = p.count
        // The method, then one space.
        var i = 0
        while i < n, i < 8, p[i] != 0x20 { i += 1 }
        guard i < n, p[i] == 0x20, let method = method(UnsafeBufferPointer(rebasing: p[0..<i])) else { return nil }
        // The target: origin-form, visible ASCII but `#`, then one space.
        let targetStart = i + 1
        guard targetStart < n, p[targetStart] == 0x2F else { return nil }
        guard let space = memchr(p.baseAddress! + targetStart, 0x20, n - targetStart) else { return nil }
        i = p.baseAddress!.distance(to: space.assumingMemoryBound(to: UInt8.self))
        guard i - targetStart <= configuration.maxHeaderLineBytes, isTarget(p, targetStart, i) else { return nil }
        let targetEnd = i
        // `HTTP/1.x` CRLF.
        guard n - i >= 11, p[i + 1] == 0x48, p[i + 2] == 0x54, p[i + 3] == 0x54, p[i + 4] == 0x50, p[i + 5] == 0x2F,
            p[i + 6] == 0x31, p[i + 7] == 0x2E, p[i + 8] == 0x30 || p[i + 8] == 0x31, p[i + 9] == 0x0D,
            p[i + 10] == 0x0A
        else { return nil }
        let version: HTTPVersion = p[i + 8] == 0x31 ? .http11 : .http10
        i += 11
        request.url.append(contentsOf: UnsafeBufferPointer(rebasing: p[targetStart..<targetEnd]))
        var headBytes = targetEnd - targetStart
        var contentLength: Int64?
        var close = false, keepAlive = false, hosts = 0
        var expect: Bool?
        let lineLimit = configuration.maxHeaderLineBytes
        while true {
            guard n - i >= 2 else { return nil }
            if p[i] == 0x0D {
                guard p[i + 1] == 0x0A else { return nil }
                i += 2
                break
            }
            // One header line: find its LF, which must follow a CR.
            guard let lf = memchr(p.baseAddress! + i, 0x0A, n - i) else { return nil }
            let lineEnd = p.baseAddress!.distance(to: lf.assumingMemoryBound(to: UInt8.self)) - 1
            guard lineEnd > i, p[lineEnd] == 0x0D else { return nil }
            let nameStart = i
            while i < lineEnd, isToken(p[i]) { i += 1 }
            guard i > nameStart, i < lineEnd, p[i] == 0x3A else { return nil }
            let nameEnd = i
            i += 1
            // The value: leading and trailing spaces and tabs are not part of it.
            var valueStart = i
            guard isValue(p, i, lineEnd) else { return nil }
            while valueStart < lineEnd, p[valueStart] == 0x20 || p[valueStart] == 0x09 { valueStart += 1 }
            var valueEnd = lineEnd
            while valueEnd > valueStart, p[valueEnd - 1] == 0x20 || p[valueEnd - 1] == 0x09 { valueEnd -= 1 }
            // Limits: near any of them, http_parser's path makes the checks and gives the answer.
            let lineBytes = (nameEnd - nameStart) + (lineEnd - nameEnd - 1)
            headBytes += lineBytes
            guard lineBytes <= lineLimit, request.headers.count + 1 < configuration.maxHeaderCount,
                headBytes + 4 * (request.headers.count + 1) <= configuration.maxHeaderBytes
            else { return nil }
            let name = UnsafeBufferPointer(rebasing: p[nameStart..<nameEnd])
            let value = UnsafeBufferPointer(rebasing: p[valueStart..<valueEnd])
            switch special(name) {
            case .contentLength:
                // http_parser's own rule: digits, then spaces only.
                guard contentLength == nil, valueStart < lineEnd, let length = digits(p, valueStart, lineEnd) else {
                    return nil
                }
                contentLength = length
            case .connection:
                guard valueEnd == lineEnd else { return nil }
                if equalsLowercase(value, "close") {
                    close = true
                } else if equalsLowercase(value, "keep-alive") {
                    keepAlive = true
                } else {
                    return nil
                }
            case .host: hosts += 1
            case .expect: expect = expect ?? equalsLowercase(value, "100-continue")
            case .other: break
            case .unread: return nil
            }
            request.headers.add(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
            i = lineEnd + 2
        }
        request.headBytes = headBytes
        return Head(
            length: i, method: method, version: version, contentLength: contentLength,
            keepAlive: version == .http11 ? !close : keepAlive, hosts: hosts, expectsContinue: expect ?? false)
    }

    private static func method(_ bytes: UnsafeBufferPointer<UInt8>) -> HTTPMethod? {
        for entry in methods where entry.name.utf8CodeUnitCount == bytes.count {
            if memcmp(entry.name.utf8Start, bytes.baseAddress!, bytes.count) == 0 { return entry.method }
        }
        return nil
    }

    /// RFC 9110's `tchar`, by table: `tokenTable[c]` is 1 for a token byte (a `switch` was 10 instructions a byte).
    private static func isToken(_ c: UInt8) -> Bool { tokenTable.utf8Start[Int(c)] == 0x31 }

    /// 256 bytes, `1` where the byte value is a `tchar`.
    private static let tokenTable: StaticString = """
        00000000000000000000000000000000\
        01011111001101101111111111000000\
        01111111111111111111111111100011\
        11111111111111111111111111101010\
        00000000000000000000000000000000\
        00000000000000000000000000000000\
        00000000000000000000000000000000\
        00000000000000000000000000000000
        """

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// True when some byte of `word` is below `limit` (at most 0x80): the classic word-at-a-time test.
    private static func hasByteBelow(_ word: UInt64, _ limit: UInt64) -> Bool {
        (word &- limit &* ones) & ~word & highs != 0
    }

    /// True when some byte of `word` is `byte`.
    private static func hasByte(_ word: UInt64, _ byte: UInt64) -> Bool { hasByteBelow(word ^ (byte &* ones), 1) }

    /// True when `p[start..<end]` is visible ASCII without `#` (an origin-form target's bytes here), eight bytes at a
    /// time (a byte loop was 10 instructions a byte).
    private static func isTarget(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        let raw = UnsafeRawPointer(p.baseAddress!)
        var i = start
        while i + 8 <= end {
            let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if word & highs != 0 || hasByteBelow(word, 0x21) || hasByte(word, 0x7F) || hasByte(word, 0x23) {
                return false
            }
            i += 8
        }
        while i < end {
            let c = p[i]
            guard c > 0x20, c < 0x7F, c != 0x23 else { return false }
            i += 1
        }
        return true
    }

    /// True when `p[start..<end]` is visible ASCII, spaces and tabs (a field value's bytes here), eight at a time.
    private static func isValue(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        let raw = UnsafeRawPointer(p.baseAddress!)
        var i = start
        while i + 8 <= end {
            let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if word & highs != 0 || hasByte(word, 0x7F) { return false }
            // A control byte: allowed only if it is a tab, so look at these eight one by one.
            if hasByteBelow(word, 0x20) {
                for j in i..<(i + 8) where p[j] < 0x20 && p[j] != 0x09 { return false }
            }
            i += 8
        }
        while i < end {
            let c = p[i]
            guard (c >= 0x20 && c < 0x7F) || c == 0x09 else { return false }
            i += 1
        }
        return true
    }

    /// A `Content-Length` value from its first byte after the leading whitespace: 1 to 18 digits, then only spaces.
    private static func digits(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int64? {
        var i = start, value: Int64 = 0
        while i < end, p[i] >= 0x30, p[i] <= 0x39 {
            // 18 digits at most, checked before the next one: 19 could overflow `Int64` and stop the process.
            guard i - start < 18 else { return nil }
            value = value * 10 + Int64(p[i] - 0x30)
            i += 1
        }
        guard i > start else { return nil }
        while i < end {
            guard p[i] == 0x20 else { return nil }
            i += 1
        }
        return value
    }

    /// The fields http_parser gives a meaning to, and those the layer checks.
    private enum Special { case contentLength, connection, host, expect, other, unread }

    /// The names http_parser matches as it reads them, and what a field of exactly that name is here. A longer name
    /// that starts with one of them is left to http_parser too: it once read `Transfer-EncodingA` as
    /// `Transfer-Encoding` (the comparison test with http_parser found it).
    private static let specialNames: [(name: StaticString, exact: Special)] = [
        ("connection", .connection), ("content-length", .contentLength), ("proxy-connection", .unread),
        ("transfer-encoding", .unread), ("upgrade", .unread)
    ]

    private static func special(_ name: UnsafeBufferPointer<UInt8>) -> Special {
        if name.count == 4 && equalsLowercase(name, "host") { return .host }
        if name.count == 6 && equalsLowercase(name, "expect") { return .expect }
        // Every special name starts with c, p, t or u.
        switch name[0] | 0x20 {
        case 0x63, 0x70, 0x74, 0x75: break
        default: return .other
        }
        for entry in specialNames where name.count >= entry.name.utf8CodeUnitCount {
            let count = entry.name.utf8CodeUnitCount
            guard equalsLowercase(UnsafeBufferPointer(rebasing: name[0..<count]), entry.name) else { continue }
            return name.count == count ? entry.exact : .unread
        }
        return .other
    }

    /// ASCII case-insensitive comparison with a lowercase literal.
    private static func equalsLowercase(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        let l = literal.utf8Start
        for k in 0..<bytes.count {
            let c = bytes[k]
            if (c >= 0x41 && c <= 0x5A ? c | 0x20 : c) != l[k] { return false }
        }
        return true
    }
}
