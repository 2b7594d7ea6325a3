#if canImport(Glibc)
import Glibc
#endif
import Foundation
import HTTPServer

/// One line per request on stderr: time, client, user, method, path, status, bytes, duration.
///
/// The path is logged without its query string, which may hold an upload URL's signature.
///
/// It runs once per request on the event loops, so the line is built as bytes in one buffer (no string
/// interpolation, no `DateFormatter`) and written with one `write(2)`: with 4 KiB blobs, building it through
/// `String` cost about a tenth of the server's CPU time.
enum AccessLog {
    static func write(_ entry: HTTPAccessLogEntry) {
        var line: [UInt8] = []
        line.reserveCapacity(160 + entry.path.utf8.count)
        appendTimestamp(entry.time, to: &line)
        line.appendUTF8(" ACCESS ")
        line.appendUTF8(entry.remoteAddress)
        line.append(0x20)
        line.appendUTF8(entry.user ?? "-")
        line.append(0x20)
        line.appendUTF8(entry.method)
        line.append(0x20)
        appendSanitized(entry.path, to: &line)
        line.append(0x20)
        appendDecimal(Int64(entry.status), to: &line)
        line.appendUTF8(" sent=")
        appendDecimal(entry.bytesSent, to: &line)
        line.appendUTF8(" received=")
        appendDecimal(entry.bytesReceived, to: &line)
        line.append(0x20)
        // Milliseconds with one decimal, e.g. `0.3ms`.
        let tenths = Int64((max(entry.duration, 0) * 10_000).rounded())
        appendDecimal(tenths / 10, to: &line)
        line.append(0x2E)
        appendDecimal(tenths % 10, to: &line)
        line.appendUTF8("ms\n")
        StandardStreams.err(bytes: line)
    }

    /// Control characters and spaces escaped so one request is always one line.
    static func sanitized(_ path: String) -> String {
        var out: [UInt8] = []
        appendSanitized(path, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `path` with bytes below 0x21 and DEL as `%XX`, cut to 512 bytes (then `...`).
    private static func appendSanitized(_ path: String, to line: inout [UInt8]) {
        let hexDigits: StaticString = "0123456789ABCDEF"
        var copy = path
        copy.withUTF8 { bytes in
            if bytes.count <= 512 && !bytes.contains(where: { $0 < 0x21 || $0 == 0x7f }) {
                line.append(contentsOf: bytes)  // the usual case: nothing to escape, one copy
                return
            }
            var written = 0
            for byte in bytes {
                if written >= 512 && byte & 0xC0 != 0x80 {  // never inside a UTF-8 sequence
                    line.appendUTF8("...")
                    return
                }
                if byte < 0x21 || byte == 0x7f {
                    line.append(0x25)
                    line.append(hexDigits.utf8Start[Int(byte >> 4)])
                    line.append(hexDigits.utf8Start[Int(byte & 0x0f)])
                } else {
                    line.append(byte)
                }
                written += 1
            }
        }
    }

    /// Appends the decimal digits of `value`.
    private static func appendDecimal(_ value: Int64, to line: inout [UInt8]) {
        if value < 0 {
            line.append(0x2D)
            appendDecimal(value == .min ? .max : -value, to: &line)
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(0x30 + rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            line.append(contentsOf: buffer[(20 - count)...])
        }
    }

    /// Appends `value` as at least `width` decimal digits.
    private static func appendPadded(_ value: Int, width: Int, to line: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor > 1 && value < divisor {
            line.append(0x30)
            divisor /= 10
        }
        appendDecimal(Int64(value), to: &line)
    }

    /// Appends the time as `ServerLog.timestamp` writes it: `2026-11-25T17:30:20.123Z`.
    private static func appendTimestamp(_ date: Date, to line: inout [UInt8]) {
        let since1970 = date.timeIntervalSince1970
        var seconds = time_t(since1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = Int((since1970 - Double(seconds)) * 1000)
        appendPadded(Int(parts.tm_year) + 1900, width: 4, to: &line)
        line.append(0x2D)
        appendPadded(Int(parts.tm_mon) + 1, width: 2, to: &line)
        line.append(0x2D)
        appendPadded(Int(parts.tm_mday), width: 2, to: &line)
        line.append(0x54)
        appendPadded(Int(parts.tm_hour), width: 2, to: &line)
        line.append(0x3A)
        appendPadded(Int(parts.tm_min), width: 2, to: &line)
        line.append(0x3A)
        appendPadded(Int(parts.tm_sec), width: 2, to: &line)
        line.append(0x2E)
        appendPadded(millis, width: 3, to: &line)
        line.append(0x5A)
    }
}

extension Array where Element == UInt8 {
    /// Appends the UTF-8 bytes of `text` with one copy (`append(contentsOf: text.utf8)` goes byte by byte).
    fileprivate mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }
}
