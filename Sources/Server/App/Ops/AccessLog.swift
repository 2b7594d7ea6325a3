import FoundationEssentials
import HTTPServer

#if canImport(Glibc)
import Glibc
#endif

/// One line per request on stderr: time, client, user, method, path, status, bytes, duration.
///
/// The path is logged without its query string, which may hold an upload URL's signature.
///
/// It runs once per request on the event loops, so the line is formatted as bytes straight into the loop's buffer
/// (no string interpolation, no `DateFormatter`, no line buffer), which the HTTP layer writes once per loop
/// iteration: with 4 KiB blobs, building it through `String` cost about a tenth of the server's CPU time, and a
/// `write(2)` per line another 1.7 us of 24 per request.
enum AccessLog {
    /// Appends `entry`'s line to `buffer`, its time stamp through the loop's `clock`.
    static func append(_ entry: HTTPAccessLogEntry, to buffer: HTTPLogBuffer, clock: AccessLogClock) {
        let user = entry.user ?? "-", method = entry.method?.name ?? "-"
        // Room for every piece at its longest: a sanitized path is at most 512 escaped bytes (3 each) and `...`.
        let room =
            40 + 8 + entry.remoteAddress.utf8.count + 1 + user.utf8.count + 1 + method.utf8.count + 1
            + 3 * 512 + 3 + 1 + 21 + 6 + 21 + 10 + 21 + 1 + 21 + 1 + 21 + 3
        // Written in place, one copy per piece.
        buffer.appendLine(maxBytes: room) { line in
            clock.write(entry.time, to: &line)
            line.write(literal: " ACCESS ")
            line.write(entry.remoteAddress)
            line.write(byte: 0x20)
            line.write(user)
            line.write(byte: 0x20)
            line.write(method)
            line.write(byte: 0x20)
            appendSanitized(entry.path, to: &line)
            line.write(byte: 0x20)
            line.write(decimal: Int64(entry.status.code))
            line.write(literal: " sent=")
            line.write(decimal: entry.bytesSent)
            line.write(literal: " received=")
            line.write(decimal: entry.bytesReceived)
            line.write(byte: 0x20)
            // Milliseconds with one decimal, e.g. `0.3ms`.
            let tenths = Int64((max(entry.duration, 0) * 10_000).rounded())
            line.write(decimal: tenths / 10)
            line.write(byte: 0x2E)
            line.write(decimal: tenths % 10)
            line.write(literal: "ms\n")
        }
    }

    /// Appends `path` with bytes below 0x21 and DEL as `%XX` (spaces and control characters escaped so one request
    /// is always one line), cut to 512 bytes (then `...`).
    private static func appendSanitized(_ path: String, to line: inout ByteWriter) {
        let hexDigits: StaticString = "0123456789ABCDEF"
        var copy = path
        copy.withUTF8 { bytes in
            if bytes.count <= 512 && !needsEscaping(bytes) {
                line.write(UnsafeRawBufferPointer(bytes))  // the usual case: nothing to escape, one copy
                return
            }
            var written = 0
            for byte in bytes {
                if written >= 512 && byte & 0xC0 != 0x80 {  // never inside a UTF-8 sequence
                    line.write(literal: "...")
                    return
                }
                if byte < 0x21 || byte == 0x7f {
                    line.write(byte: 0x25)
                    line.write(byte: hexDigits.utf8Start[Int(byte >> 4)])
                    line.write(byte: hexDigits.utf8Start[Int(byte & 0x0f)])
                } else {
                    line.write(byte: byte)
                }
                written += 1
            }
        }
    }

    /// True when `bytes` holds a byte below 0x21 or DEL.
    ///
    /// Eight bytes at a time (a byte loop was 900 instructions for a blob path): `(w - 0x21..) & ~w & 0x80..` is
    /// non-zero exactly when some byte is below 0x21, and the same test on `w ^ 0x7f..` against 1 finds a DEL.
    private static func needsEscaping(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let raw = UnsafeRawPointer(base)
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        var i = 0
        while i + 8 <= bytes.count {
            let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let del = word ^ (0x7f &* ones)
            if ((word &- 0x21 &* ones) & ~word | (del &- ones) & ~del) & highs != 0 { return true }
            i += 8
        }
        while i < bytes.count {
            if base[i] < 0x21 || base[i] == 0x7f { return true }
            i += 1
        }
        return false
    }
}
