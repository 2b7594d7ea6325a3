#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call, on which path (or stream), and the `errno` it set.
///
/// Each side turns it into its own error (`StorageError.init(_:)`, the client's `FileSystem.error`), so the message a
/// user sees is worded as before; this type only carries the facts.
public struct SystemCallError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The call that failed, as its man page names it (`mkdir`, `write`, `opendir`...).
    public let call: String
    /// The path it was called on (for a descriptor, the path it was opened from).
    public let path: String
    /// The `errno` it set.
    public let code: Int32

    /// The failure of `call` on `path` with `code` (by default the current `errno`).
    public init(_ call: String, path: String, code: Int32 = errno) {
        self.call = call
        self.path = path
        self.code = code
    }

    /// `strerror(code)`, e.g. "No such file or directory".
    public var reason: String { String(cString: strerror(code)) }

    /// `mkdir(/srv/public) failed: Permission denied (errno 13)`.
    public var description: String { "\(call)(\(path)) failed: \(reason) (errno \(code))" }
}
