#if canImport(Glibc)
import Glibc
#endif

/// The entry names of one folder, read one at a time with `readdir` (no list is built), closed on deinit.
///
/// Not `Sendable`: one thread reads it (a `DIR` stream has one position).
public final class DirectoryStream {
    private let dir: OpaquePointer
    /// The folder's path (for messages).
    public let path: String

    /// Opens a folder; nil when it does not exist.
    public init?(path: String) throws(SystemCallError) {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return nil }
            throw SystemCallError("opendir", path: path)
        }
        self.dir = dir
        self.path = path
    }

    /// Reads the folder open as `descriptor` from its start; the descriptor stays open and the caller's (the stream
    /// reads a duplicate). `path` is for messages.
    public init(descriptor: Int32, path: String) throws(SystemCallError) {
        let copy = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { throw SystemCallError("fcntl", path: path) }
        guard let dir = fdopendir(copy) else {
            let failure = SystemCallError("fdopendir", path: path)
            close(copy)
            throw failure
        }
        rewinddir(dir)
        self.dir = dir
        self.path = path
    }

    deinit { closedir(dir) }

    /// The next entry name (never `.` or `..`), nil at the end.
    public func next() throws(SystemCallError) -> String? {
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw SystemCallError("readdir", path: path) }
                return nil
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { return name }
        }
    }

    /// The remaining entry names.
    public func all() throws(SystemCallError) -> [String] {
        var names: [String] = []
        while let name = try next() { names.append(name) }
        return names
    }
}
