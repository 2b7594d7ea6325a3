#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Unix wall-clock seconds (index times, quarantine names, signed-URL expiry) and their ISO-8601 UTC form to the
/// second (`YYYY-MM-DDTHH:MM:SSZ`). Not the client's `Timestamp`, a nanosecond file time or clock reading.
public enum WallClock {
    /// Seconds since the Unix epoch, now.
    public static func now() -> Int64 {
        Int64(time(nil))
    }

    /// Formats Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
    public static func iso8601(_ seconds: Int64) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))"
            + "T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))Z"
    }
}
