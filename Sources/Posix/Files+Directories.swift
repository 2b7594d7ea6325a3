#if canImport(Glibc)
import Glibc
#endif

extension Files {
    /// Creates `path` and its missing parents with `mode`; an existing folder is fine. With `durably`, fsyncs the
    /// parent of each folder it makes, so the new folders survive a crash. True when it made one.
    ///
    /// Walks from the first component down (`a`, `a/b`, `a/b/c`), so the error names the folder that could not be
    /// made; an existing folder costs one `lstat`.
    @discardableResult
    public static func makeDirectories(
        _ path: String, mode: mode_t = 0o755, durably: Bool = false
    ) throws(SystemCallError) -> Bool {
        if let info = linkStatus(path), isDirectory(info) { return false }
        var made = false
        var end = path.startIndex
        while end < path.endIndex {
            end = path[path.index(after: end)...].firstIndex(of: "/") ?? path.endIndex
            let current = String(path[..<end])
            if current.hasSuffix("/") { continue }  // `a//b`
            if mkdir(current, mode) == 0 {
                made = true
                if durably { try fsyncDirectory(parent(of: current)) }
            } else if errno != EEXIST {
                throw SystemCallError("mkdir", path: current)
            }
        }
        return made
    }

    /// Makes a folder's entries durable (after a link, rename, unlink or `mkdir` in it).
    public static func fsyncDirectory(_ path: String) throws(SystemCallError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemCallError("open", path: path) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw SystemCallError("fsync", path: path) }
    }

    /// The names in a folder, without `.` and `..`.
    public static func entries(in path: String) throws(SystemCallError) -> [String] {
        guard let stream = try DirectoryStream(path: path) else {
            throw SystemCallError("opendir", path: path, code: ENOENT)
        }
        return try stream.all()
    }

    /// The folder part of `path` as `mkdir` saw it: `/` for a top folder, `.` for a relative single name.
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
