import FoundationEssentials
import Glibc
import HTTPServer

/// One event loop's access-log time stamps, `2026-11-25T17:30:20.123Z` as `ServerLog.timestamp` writes them: the
/// part up to the second is made once per second and copied, only the milliseconds are written per line (making the
/// date for every line was about 600 instructions a request).
///
/// Loop thread only: `ServeCommand` makes one per event loop, used by that loop's logger alone.
final class AccessLogClock: @unchecked Sendable {
    // @unchecked: each instance is reached from one loop thread only (see above), so its state needs no lock.

    /// The whole second `prefix` stands for; none at first.
    private var second = Int64.min
    /// `2026-11-25T17:30:20.` (20 bytes for years 0 to 9999; more for others), then spare room.
    private var prefix = [UInt8](repeating: 0, count: 40)
    private var prefixCount = 0

    /// A clock that has made no prefix yet.
    init() {}

    /// Writes `date` (24 bytes for years 0 to 9999, at most 40).
    func write(_ date: Date, to line: inout ByteWriter) {
        let since1970 = date.timeIntervalSince1970
        let wholeSeconds = since1970.rounded(.down)
        let seconds = Int64(wholeSeconds)
        let millis = min(Int((since1970 - wholeSeconds) * 1000), 999)
        if seconds != second { makePrefix(seconds) }
        let count = prefixCount
        prefix.withUnsafeBytes { line.write(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        line.write(byte: UInt8(truncatingIfNeeded: 0x30 + millis / 100))
        Self.appendTwoDigits(millis % 100, to: &line)
        line.write(byte: 0x5A)
    }

    /// The date and time of `seconds` up to the `.` before the milliseconds (`gmtime_r`, once a second).
    private func makePrefix(_ seconds: Int64) {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        let year = Int(parts.tm_year) + 1900
        prefixCount = prefix.withUnsafeMutableBytes { storage in
            var line = ByteWriter(base: storage.baseAddress!, capacity: storage.count)
            if (0...9999).contains(year) {
                Self.appendTwoDigits(year / 100, to: &line)
                Self.appendTwoDigits(year % 100, to: &line)
            } else {
                line.write(decimal: Int64(year))
            }
            line.write(byte: 0x2D)
            Self.appendTwoDigits(Int(parts.tm_mon) + 1, to: &line)
            line.write(byte: 0x2D)
            Self.appendTwoDigits(Int(parts.tm_mday), to: &line)
            line.write(byte: 0x54)
            Self.appendTwoDigits(Int(parts.tm_hour), to: &line)
            line.write(byte: 0x3A)
            Self.appendTwoDigits(Int(parts.tm_min), to: &line)
            line.write(byte: 0x3A)
            Self.appendTwoDigits(Int(parts.tm_sec), to: &line)
            line.write(byte: 0x2E)
            return line.count
        }
        second = seconds
    }

    /// Appends `value` (0 to 99) as two digits.
    private static func appendTwoDigits(_ value: Int, to line: inout ByteWriter) {
        line.write(byte: UInt8(truncatingIfNeeded: 0x30 + value / 10))
        line.write(byte: UInt8(truncatingIfNeeded: 0x30 + value % 10))
    }
}
