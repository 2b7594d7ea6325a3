#if canImport(Glibc)
import Glibc
#endif

/// The file-system calls client and server share: status, whole writes, folders, removal. Thin: each is the POSIX
/// call with its `EINTR`, short-write and `EEXIST` handling, failing with a `SystemCallError` that the caller words.
///
/// The server's GET path does not go through here: it keeps its own `openat`/`fstatat` on held folder descriptors
/// (`FileSystemBlobStore.openForReading`), tuned per instruction. Stateless; any thread.
public enum Files {
    /// `stat` of a path (following links); nil when it does not exist or cannot be read.
    public static func status(_ path: String) -> stat? {
        var info = stat()
        return stat(path, &info) == 0 ? info : nil
    }

    /// `lstat` of a path (not following links); nil when it does not exist or cannot be read.
    public static func linkStatus(_ path: String) -> stat? {
        var info = stat()
        return lstat(path, &info) == 0 ? info : nil
    }

    /// `lstat` of a path; nil when it does not exist (`ENOENT`, `ENOTDIR`), any other failure thrown.
    public static func linkStatusIfExists(_ path: String) throws(SystemCallError) -> stat? {
        var info = stat()
        if lstat(path, &info) == 0 { return info }
        if errno == ENOENT || errno == ENOTDIR { return nil }
        throw SystemCallError("lstat", path: path)
    }

    /// True when `info` describes a regular file.
    public static func isRegular(_ info: stat) -> Bool {
        info.st_mode & S_IFMT == S_IFREG
    }

    /// True when `info` describes a folder.
    public static func isDirectory(_ info: stat) -> Bool {
        info.st_mode & S_IFMT == S_IFDIR
    }

    /// Removes a file; false when it was already gone.
    @discardableResult
    public static func unlinkIfExists(_ path: String) throws(SystemCallError) -> Bool {
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw SystemCallError("unlink", path: path)
    }
}
