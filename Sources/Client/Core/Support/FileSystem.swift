import Posix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The client's file helpers: `Posix.Files` (the calls shared with the server) with every failure as a `.io`
/// `ClientError` naming what could not be done, the path and `strerror`, plus what only the client needs (paths,
/// temp names, atomic replacement, copies, trees).
public enum FileSystem {
    /// The error for a failed call on `path` with the current `errno`.
    public static func error(_ call: String, _ path: String, errno code: Int32 = errno) -> ClientError {
        ClientError(.io, "\(call) \(path): \(String(cString: strerror(code)))")
    }

    /// The error for a failed shared call, worded `what path: strerror`.
    static func error(_ what: String, _ failure: SystemCallError) -> ClientError {
        error(what, failure.path, errno: failure.code)
    }

    /// `stat` of a path (following links), nil when it does not exist or cannot be read.
    public static func status(_ path: String) -> stat? { Files.status(path) }

    /// `lstat` of a path (not following links).
    public static func linkStatus(_ path: String) -> stat? { Files.linkStatus(path) }

    /// True when `path` names anything, a dangling link included.
    public static func exists(_ path: String) -> Bool { linkStatus(path) != nil }

    /// True when `path` is a folder (not following links).
    public static func isDirectory(_ path: String) -> Bool {
        guard let info = linkStatus(path) else { return false }
        return Files.isDirectory(info)
    }

    /// The folder part of a path (`.` when there is none).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last component of a path.
    public static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// `a/b`, without doubling the slash.
    public static func join(_ a: String, _ b: String) -> String {
        a.hasSuffix("/") ? a + b : a + "/" + b
    }

    /// A fresh, unique path beside `path` for a temp file that is later renamed onto it:
    /// `.NAME.PID.SEED-COUNT.tmp`.
    ///
    /// The process id and a random seed are taken once per process and a counter makes each name unique within it,
    /// so a name costs no system call (it was a `getpid` and a `getrandom` per file); the seed keeps a later process
    /// with a reused id from meeting our names, and every creation uses `O_EXCL` all the same.
    public static func temporaryPath(beside path: String) -> String {
        let count = temporaryCounter.wrappingAdd(1, ordering: .relaxed).oldValue
        return join(
            directory(of: path), ".\(baseName(of: path)).\(processID).\(temporarySeed)-\(String(count, radix: 36)).tmp")
    }

    /// This process's id, read once (`fork` is never called without `exec`).
    private static let processID = getpid()
    /// A random prefix for this process's temp names.
    private static let temporarySeed = String(UInt64.random(in: 0...UInt64.max), radix: 36)
    /// Counts the temp names handed out.
    private static let temporaryCounter = Atomic<Int>(0)

    /// Reads a whole (small) file.
    public static func readFile(_ path: String) throws(ClientError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw error("cannot open", path) }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw error("cannot read", path)
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[..<n])
        }
    }

    /// Writes all of `bytes` to `fd`.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(ClientError) {
        do throws(SystemCallError) {
            try Files.writeAll(fd, bytes, path: path)
        } catch {
            throw self.error("cannot write", error)
        }
    }

    /// Replaces `path` with `bytes` atomically: a temp file beside it, then `rename`.
    public static func writeFileAtomically(_ path: String, _ bytes: [UInt8]) throws(ClientError) {
        let temporary = temporaryPath(beside: path)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw error("cannot create", temporary) }
        do throws(ClientError) {
            let written: Result<Void, ClientError> = bytes.withUnsafeBytes { buffer in
                do throws(ClientError) { try writeAll(fd, buffer, path: temporary) } catch { return .failure(error) }
                return .success(())
            }
            try written.get()
            close(fd)
            try rename(temporary, to: path)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
    }

    /// `rename(2)`.
    public static func rename(_ from: String, to: String) throws(ClientError) {
        guard Glibc.rename(from, to) == 0 else { throw error("cannot rename \(from) to", to) }
    }

    /// Removes a file; a missing file is not an error.
    public static func removeFile(_ path: String) {
        unlink(path)
    }

    /// Hard-links `source` at `destination` (which must not exist); false when they are on different filesystems
    /// or the filesystem has no hard links.
    public static func hardLink(_ source: String, _ destination: String) throws(ClientError) -> Bool {
        if link(source, destination) == 0 { return true }
        let code = errno
        if code == EXDEV || code == EPERM || code == EMLINK || code == ENOTSUP || code == EOPNOTSUPP { return false }
        throw error("cannot link \(source) to", destination, errno: code)
    }

    /// Copies `source` to `destination` (created, must not exist) with mode 0644.
    public static func copyFile(_ source: String, _ destination: String) throws(ClientError) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw error("cannot open", source) }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw error("cannot create", destination) }
        defer { close(output) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        while true {
            let n = read(input, buffer.baseAddress, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw error("cannot read", source)
            }
            if n == 0 { return }
            try writeAll(output, UnsafeRawBufferPointer(rebasing: buffer[0..<n]), path: destination)
        }
    }

    /// Sets a file's access and modification times to now.
    public static func touch(_ path: String) {
        _ = utimensat(AT_FDCWD, path, nil, 0)
    }

    /// Creates a folder and its parents; an existing folder is fine.
    public static func makeDirectories(_ path: String) throws(ClientError) {
        do throws(SystemCallError) {
            try Files.makeDirectories(path)
        } catch {
            throw self.error("cannot create folder", error)
        }
    }

    /// The names in a folder, without `.` and `..`.
    public static func list(_ path: String) throws(ClientError) -> [String] {
        do throws(SystemCallError) {
            return try Files.entries(in: path)
        } catch {
            throw self.error("cannot list", error)
        }
    }

    /// The names in the folder open as `descriptor` (left open; `path` is for messages), without `.` and `..`.
    public static func list(descriptor: Int32, path: String) throws(ClientError) -> [String] {
        do throws(SystemCallError) {
            return try DirectoryStream(descriptor: descriptor, path: path).all()
        } catch {
            throw self.error("cannot list", error)
        }
    }

    /// Removes a file or a whole folder tree (links are removed, never followed); a missing path is fine.
    public static func removeTree(_ path: String) throws(ClientError) {
        guard let info = linkStatus(path) else { return }
        if Files.isDirectory(info) {
            _ = chmod(path, 0o700)
            for name in try list(path) { try removeTree(join(path, name)) }
            guard rmdir(path) == 0 || errno == ENOENT else { throw error("cannot remove folder", path) }
        } else {
            guard unlink(path) == 0 || errno == ENOENT else { throw error("cannot remove", path) }
        }
    }

    /// Bytes available to an unprivileged user on the filesystem holding `path`.
    public static func freeBytes(_ path: String) throws(ClientError) -> Int64 {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { throw error("cannot statvfs", path) }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
