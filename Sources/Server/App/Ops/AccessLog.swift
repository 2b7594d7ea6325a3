#if canImport(Glibc)
import Glibc
#endif
import HTTPServer

/// One line per request on stderr: time, client, user, method, path, status, bytes, duration.
///
/// The path is logged without its query string, which may hold an upload URL's signature.
enum AccessLog {
    static func write(_ entry: HTTPAccessLogEntry) {
        let user = entry.user ?? "-"
        let millis = (entry.duration * 1000 * 10).rounded() / 10
        let line = "\(ServerLog.timestamp(entry.time)) ACCESS \(entry.remoteAddress) \(user) \(entry.method) "
            + "\(sanitized(entry.path)) \(entry.status) sent=\(entry.bytesSent) received=\(entry.bytesReceived) \(millis)ms\n"
        StandardStreams.err(line)
    }

    /// Control characters and spaces escaped so one request is always one line.
    static func sanitized(_ path: String) -> String {
        var out = ""
        for scalar in path.unicodeScalars {
            if scalar.value < 0x21 || scalar.value == 0x7f {
                out += "%" + String(scalar.value, radix: 16, uppercase: true).leftPadded(2)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out.count > 512 ? String(out.prefix(512)) + "..." : out
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
