import FoundationEssentials
import Posix

#if canImport(Glibc)
import Glibc
#endif

/// Server log lines on stderr: `time level message`. Never pass a token, an Authorization header or a signature.
enum ServerLog {
    /// Something an operator should look at.
    static func error(_ message: String) { write("ERROR", message) }
    /// Something that happened.
    static func info(_ message: String) { write("INFO", message) }

    static func write(_ level: String, _ message: String) {
        let line = "\(timestamp()) \(level) \(message)\n"
        StandardStreams.err(line)
    }

    /// `2026-11-25T17:30:20.123Z`.
    static func timestamp(_ date: Date = Date()) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = Int((date.timeIntervalSince1970 - Double(seconds)) * 1000)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}
