import CHTTPParser
import Shared

/// Owns one `http_parser` in request mode. Loop thread only.
final class Parser {
    /// The `http_parser *`; its `data` is the owning connection's unretained context.
    let pointer: UnsafeMutablePointer<http_parser>

    /// A fresh request parser whose callbacks receive `context`.
    init(context: UnsafeMutableRawPointer) {
        pointer = .allocate(capacity: 1)
        http_parser_init(pointer, HTTP_REQUEST)
        pointer.pointee.data = context
    }

    /// The parser's error state (`HPE_OK`, `HPE_PAUSED`, or what it rejected).
    var errno: http_errno { tt_http_parser_errno(pointer) }

    /// Feeds bytes; returns how many were parsed before a pause or an error.
    func execute(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        return http_parser_execute(
            pointer, parserSettings.pointer, base.assumingMemoryBound(to: CChar.self), bytes.count)
    }

    /// Pauses from inside a callback: `execute` returns right after the current byte.
    func pause() { http_parser_pause(pointer, 1) }

    /// Clears a pause so parsing can go on.
    func resume() { http_parser_pause(pointer, 0) }

    /// The method of the current request, straight from the parser's number (no string is made).
    var method: HTTPMethod {
        // http_parser fails a request with any method outside its list, which `HTTPMethod` mirrors.
        guard let method = HTTPMethod(rawValue: UInt8(truncatingIfNeeded: pointer.pointee.method)) else {
            preconditionFailure("http_parser method \(pointer.pointee.method) is not in HTTPMethod")
        }
        return method
    }

    /// The version of the current request.
    var version: HTTPVersion {
        HTTPVersion(major: Int(pointer.pointee.http_major), minor: Int(pointer.pointee.http_minor))
    }

    /// Whether the request asks to keep the connection open (1.1 default, 1.0 with `Connection: keep-alive`).
    var keepAlive: Bool { http_should_keep_alive(pointer) != 0 }

    deinit { pointer.deallocate() }
}

/// The one callback table every parser uses (process-wide, immutable after initialization).
struct ParserSettings: @unchecked Sendable {
    // Safe because the table is written once during lazy global initialization and only read afterwards.
    /// The `http_parser_settings *`.
    let pointer: UnsafeMutablePointer<http_parser_settings>
}
