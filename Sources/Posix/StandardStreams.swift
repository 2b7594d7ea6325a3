#if canImport(Glibc)
import Glibc
#endif

/// Unbuffered whole writes to the standard streams (file descriptors 1 and 2), safe from any thread.
///
/// Used instead of the C `stdout`/`stderr` globals, which Swift 6 rightly treats as shared mutable state. A stream
/// that fails (a closed pipe) is not worth failing anything for: the rest of that text is dropped.
public enum StandardStreams {
    /// Writes `text` to stdout at once.
    public static func out(_ text: String) { try? Files.writeAll(1, text: text, path: "stdout") }
    /// Writes `text` to stderr at once.
    public static func err(_ text: String) { try? Files.writeAll(2, text: text, path: "stderr") }
}
