import Glibc

/// What an access logger is: called on the loop thread once per finished response, it appends the line it wants
/// written (newline included) to that loop's buffer.
public typealias HTTPAccessLogger = @Sendable (HTTPAccessLogEntry, HTTPLogBuffer) -> Void

/// One loop's access-log lines not yet written. The loop writes them (one `write(2)` per 4 KiB of lines) once the
/// events of the current loop iteration are handled (a busy loop answers many requests per iteration), sooner when
/// they pass `flushThreshold` bytes, and when the loop ends: a line waits for at most one iteration, and a
/// `kill -9` loses at most the lines of the iteration it interrupts.
///
/// Loop thread only. Lines are formatted straight into its memory (no line buffer, no copy).
public final class HTTPLogBuffer {
    /// Pending bytes past which the loop writes at once rather than at the end of the iteration.
    static let flushThreshold = 64 * 1024

    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    /// Bytes pending.
    private(set) var count = 0

    init() {
        capacity = 2 * Self.flushThreshold
        storage = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    /// Lets `write` append one line of at most `maxBytes` bytes (newline included) in place.
    public func appendLine(maxBytes: Int, _ write: (inout ByteWriter) -> Void) {
        if count + maxBytes > capacity { grow(to: count + maxBytes) }
        var writer = ByteWriter(base: storage + count, capacity: maxBytes)
        write(&writer)
        count += writer.count
    }

    /// Appends `line` as is (newline included).
    public func append(_ line: UnsafeRawBufferPointer) {
        appendLine(maxBytes: line.count) { $0.write(line) }
    }

    /// True when nothing is pending.
    var isEmpty: Bool { count == 0 }

    /// The most bytes one `write(2)` takes: `PIPE_BUF`, so each write to a pipe (stderr under docker or systemd) is
    /// atomic and lines of two loops, or of `ServerLog`, never mix. Lines are shorter (about 1.7 KB at most).
    static let atomicWrite = 4096
    /// Pending bytes kept for the next flush when the descriptor is non-blocking and full; past this they are
    /// dropped.
    static let keepLimit = 1 << 20

    /// Writes the pending bytes to `fd`, in pieces of at most `atomicWrite` bytes that end at a line end, and
    /// empties the buffer. A full non-blocking descriptor keeps the rest for the next flush (up to `keepLimit`);
    /// any other error drops it: the log must never stall or stop the server.
    func write(to fd: Int32) {
        var offset = 0
        while offset < count {
            var end = min(count, offset + Self.atomicWrite)
            if end < count {
                var lineEnd = end
                while lineEnd > offset && storage.load(fromByteOffset: lineEnd - 1, as: UInt8.self) != 0x0A {
                    lineEnd -= 1
                }
                if lineEnd > offset { end = lineEnd }
            }
            let written = Glibc.write(fd, storage + offset, end - offset)
            if written < 0 && errno == EINTR { continue }
            if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && count - offset <= Self.keepLimit {
                storage.copyMemory(from: storage + offset, byteCount: count - offset)  // memmove: may overlap
                count -= offset
                return
            }
            if written <= 0 { break }
            offset += written
        }
        count = 0
    }

    private func grow(to needed: Int) {
        let larger = max(needed, 2 * capacity)
        let moved = UnsafeMutableRawPointer.allocate(byteCount: larger, alignment: 16)
        moved.copyMemory(from: storage, byteCount: count)
        storage.deallocate()
        storage = moved
        capacity = larger
    }
}
