#if canImport(Glibc)
import Glibc
#endif

/// Unbuffered writes to the standard streams (file descriptors 1 and 2), safe from any thread.
///
/// Used instead of the C `stdout`/`stderr` globals, which Swift 6 rightly treats as shared mutable state.
enum StandardStreams {
    /// Writes `text` to stdout at once.
    static func out(_ text: String) { write(1, text) }
    /// Writes `text` to stderr at once.
    static func err(_ text: String) { write(2, text) }

    private static func write(_ fd: Int32, _ text: String) {
        var text = text
        text.withUTF8 { write(fd, UnsafeRawBufferPointer($0)) }
    }

    private static func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < buffer.count {
            let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}
