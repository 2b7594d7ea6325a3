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
    static func append(_ entry: HTTPAccessLogEntry, to buffer: HTTPLogBuffer) {
        let user = entry.user ?? "-", method = entry.method?.name ?? "-"
        // Room for every piece at its longest: a sanitized path is at most 512 escaped bytes (3 each) and `...`.
        let room =
            24 + 8 + entry.remoteAddress.utf8.count + 1 + user.utf8.count + 1 + method.utf8.count + 1
            + 3 * 512 + 3 + 1 + 21 + 6 + 21 + 10 + 21 + 1 + 21 + 1 + 21 + 3
        // Written in place, one copy per piece.
        buffer.appendLine(maxBytes: room) { line in
            appendTimestamp(entry.time, to: &line)
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

    /// Appends `value` (0 to 99) as two digits.
    private static func appendTwoDigits(_ value: Int, to line: inout ByteWriter) {
        line.write(byte: UInt8(truncatingIfNeeded: 0x30 + value / 10))
        line.write(byte: UInt8(truncatingIfNeeded: 0x30 + value % 10))
    }

    /// Appends the time as `ServerLog.timestamp` writes it: `2026-11-25T17:30:20.123Z` (24 bytes for years
    /// 0 to 9999).
    ///
    /// The civil date comes from the day count by arithmetic (H. Hinnant's `civil_from_days`), not `gmtime_r`:
    /// this runs once per request.
    private static func appendTimestamp(_ date: Date, to line: inout ByteWriter) {
        let since1970 = date.timeIntervalSince1970
        let wholeSeconds = since1970.rounded(.down)
        let seconds = Int64(wholeSeconds)
        let millis = min(Int((since1970 - wholeSeconds) * 1000), 999)
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        if (0...9999).contains(year) {
            appendTwoDigits(Int(year / 100), to: &line)
            appendTwoDigits(Int(year % 100), to: &line)
        } else {
            line.write(decimal: year)
        }
        line.write(byte: 0x2D)
        appendTwoDigits(Int(month), to: &line)
        line.write(byte: 0x2D)
        appendTwoDigits(Int(day), to: &line)
        line.write(byte: 0x54)
        appendTwoDigits(Int(secondOfDay / 3600), to: &line)
        line.write(byte: 0x3A)
        appendTwoDigits(Int(secondOfDay / 60 % 60), to: &line)
        line.write(byte: 0x3A)
        appendTwoDigits(Int(secondOfDay % 60), to: &line)
        line.write(byte: 0x2E)
        line.write(byte: UInt8(truncatingIfNeeded: 0x30 + millis / 100))
        appendTwoDigits(millis % 100, to: &line)
        line.write(byte: 0x5A)
    }
}
