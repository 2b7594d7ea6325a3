import Posix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The process's stderr and stdout, shared by log lines and the live progress display.
///
/// All writes take one lock so a log line never lands in the middle of a progress redraw.
public final class Terminal: Sendable {
    /// The one instance for the process.
    public static let shared = Terminal()

    /// True when stderr is a terminal (progress is drawn live only then).
    public let stderrIsTTY: Bool

    private struct State {
        var statusLine = ""
    }

    private let state = Mutex(State())

    private init() {
        stderrIsTTY = isatty(2) == 1
    }

    /// Writes one line to stderr, keeping any live status line below it.
    ///
    /// When stderr is not a terminal there is never a status line, and the line goes out in one `write(2)` without
    /// the lock: the kernel keeps whole writes apart (a pipe's up to `PIPE_BUF`, a file's through its offset lock),
    /// and workers that each log a line per file no longer queue on a lock held across a system call.
    public func writeLine(_ line: String) {
        guard stderrIsTTY else {
            StandardStreams.err(line + "\n")
            return
        }
        state.withLock { state in
            var out = ""
            if !state.statusLine.isEmpty { out += "\r\u{1b}[K" }
            out += line + "\n"
            if !state.statusLine.isEmpty { out += state.statusLine }
            StandardStreams.err(out)
        }
    }

    /// Replaces the live status line on stderr (a terminal only); an empty string clears it.
    public func setStatusLine(_ line: String) {
        guard stderrIsTTY else { return }
        state.withLock { state in
            state.statusLine = line
            StandardStreams.err("\r\u{1b}[K" + line)
        }
    }

    /// Writes data (not log lines) to stdout.
    public func writeOutput(_ text: String) {
        state.withLock { _ in StandardStreams.out(text) }
    }
}
