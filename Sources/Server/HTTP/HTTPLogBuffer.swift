import Glibc

/// What an access logger is: called on the loop thread once per finished response, it appends the line it wants
/// written (newline included) to that loop's buffer.
public typealias HTTPAccessLogger = @Sendable (HTTPAccessLogEntry, inout HTTPLogBuffer) -> Void

/// One loop's access-log lines not yet written. The loop writes them with one `write(2)` once the events of the
/// current loop iteration are handled (a busy loop answers many requests per iteration), sooner when they pass
/// `flushThreshold` bytes, and when the loop ends: a line waits for at most one iteration, and a `kill -9` loses
/// at most the lines of the iteration it interrupts.
public struct HTTPLogBuffer {
    /// Pending bytes past which the loop writes at once rather than at the end of the iteration.
    static let flushThreshold = 64 * 1024

    /// The pending lines.
    private(set) var bytes: [UInt8] = []

    /// Appends `line` as is (the logger writes whole lines, newline included).
    public mutating func append(_ line: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: line)
    }

    /// True when nothing is pending.
    var isEmpty: Bool { bytes.isEmpty }

    /// Writes every pending byte to `fd` and empties the buffer (keeping its storage). A write error drops what
    /// is left: the log must never stall or stop the server.
    mutating func write(to fd: Int32) {
        bytes.withUnsafeBytes { pending in
            var offset = 0
            while offset < pending.count {
                let written = Glibc.write(fd, pending.baseAddress! + offset, pending.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { break }
                offset += written
            }
        }
        bytes.removeAll(keepingCapacity: true)
    }
}
