import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Log lines on stderr as `LEVEL - message`, the format tooltool.py uses.
///
/// Safe from any thread: the level is atomic and each line goes out through `Terminal.writeLine`.
public enum Log {
    /// Severity, lowest first.
    public enum Level: Int, Sendable, Comparable {
        case debug = 10, info = 20, warning = 30, error = 40, critical = 50

        /// The name printed before the message.
        public var name: String {
            switch self {
            case .debug: return "DEBUG"
            case .info: return "INFO"
            case .warning: return "WARNING"
            case .error: return "ERROR"
            case .critical: return "CRITICAL"
            }
        }

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private static let threshold = Atomic<Int>(Level.info.rawValue)

    /// Sets the lowest level printed: `-v` gives debug, `-q` error, else info.
    public static func setLevel(_ level: Level) { threshold.store(level.rawValue, ordering: .relaxed) }

    /// True when lines of `level` are printed.
    public static func enabled(_ level: Level) -> Bool { level.rawValue >= threshold.load(ordering: .relaxed) }

    /// Prints `message` at `level` when enabled.
    public static func write(_ level: Level, _ message: @autoclosure () -> String) {
        guard enabled(level) else { return }
        Terminal.shared.writeLine("\(level.name) - \(message())")
    }

    /// Debug detail, shown with `-v`.
    public static func debug(_ message: @autoclosure () -> String) { write(.debug, message()) }
    /// Normal progress messages.
    public static func info(_ message: @autoclosure () -> String) { write(.info, message()) }
    /// Something went wrong but the command goes on (a server failed, a cache entry was corrupt).
    public static func warning(_ message: @autoclosure () -> String) { write(.warning, message()) }
    /// A failure of the command.
    public static func error(_ message: @autoclosure () -> String) { write(.error, message()) }
}
