#if canImport(Glibc)
import Glibc
#endif

/// `<cache>/.verified-<euid>`: one user's verification stamps, in one table (`StampTable`).
///
/// Held open as a descriptor (`O_DIRECTORY | O_NOFOLLOW`) whose owner and mode were checked with `fstat`; every
/// stamp is opened, renamed and removed relative to it with `O_NOFOLLOW`, so swapping a path component after the
/// check cannot point us at another folder. Safe from any thread: the descriptor never changes until `deinit`.
final class StampFolder: Sendable {
    /// The folder's path, for messages.
    let path: String
    private let descriptor: Int32

    /// The folder's name inside the cache, for the effective user.
    static var name: String { ".verified-\(geteuid())" }

    /// Opens the stamp folder of `cacheFolder`, first creating it with mode 0700 when `create` is set.
    ///
    /// Refuses, saying why, a symlink or non-folder, a folder the effective user does not own, and (with
    /// `requirePrivate`) one that grants any permission to group or others: whoever can write there can vouch for
    /// bytes of their choosing, which is why ssh's StrictModes ignores a `~/.ssh` others can write.
    init(cacheFolder: String, create: Bool, requirePrivate: Bool) throws(ClientError) {
        path = FileSystem.join(cacheFolder, StampFolder.name)
        if create, mkdir(path, 0o700) != 0, errno != EEXIST { throw FileSystem.error("cannot create folder", path) }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystem.error("cannot open folder", path) }
        var info = stat()
        let problem: ClientError?
        if fstat(fd, &info) != 0 {
            problem = FileSystem.error("cannot stat", path)
        } else if info.st_uid != geteuid() {
            problem = ClientError(.io, "\(path) is owned by uid \(info.st_uid), not by uid \(geteuid())")
        } else if requirePrivate, info.st_mode & 0o077 != 0 {
            let mode = String(info.st_mode & 0o7777, radix: 8)
            problem = ClientError(
                .io, "\(path) has mode 0\(mode), expected no permission for group or others (chmod 700)")
        } else {
            problem = nil
        }
        if let problem {
            close(fd)
            throw problem
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// The content of the regular file `name` in the folder, at most `limit` bytes of it; nil when absent.
    func read(_ name: String, limit: Int) throws(ClientError) -> [UInt8]? {
        let fd = openat(descriptor, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw error("cannot open", name)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw ClientError(.io, "\(FileSystem.join(path, name)) is not a regular file")
        }
        var bytes = [UInt8](repeating: 0, count: min(limit, Int(info.st_size) + 1))
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw error("cannot read", name)
            }
            if n == 0 { break }
            count += n
        }
        return Array(bytes[..<count])
    }

    /// Replaces file `name` with `bytes` through a temp file in the folder and `renameat`, so no reader ever sees
    /// a half-written stamp under its name.
    func write(_ name: String, _ bytes: [UInt8]) throws(ClientError) {
        let temporary = FileSystem.baseName(of: FileSystem.temporaryPath(beside: name))
        let fd = openat(descriptor, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw error("cannot create", temporary) }
        let written: Result<Void, ClientError> = bytes.withUnsafeBytes { buffer in
            do throws(ClientError) {
                try FileSystem.writeAll(fd, buffer, path: FileSystem.join(path, temporary))
            } catch {
                return .failure(error)
            }
            return .success(())
        }
        close(fd)
        do throws(ClientError) {
            try written.get()
            guard renameat(descriptor, temporary, descriptor, name) == 0 else {
                throw error("cannot rename \(temporary) to", name)
            }
        } catch {
            unlinkat(descriptor, temporary, 0)
            throw error
        }
    }

    /// Removes file `name`; true when it is gone (or was never there).
    @discardableResult
    func remove(_ name: String) -> Bool {
        unlinkat(descriptor, name, 0) == 0 || errno == ENOENT
    }

    /// Runs `body` holding an exclusive `flock` on the folder, so two processes updating the stamp table one after
    /// the other each start from the other's result (without it, the later rename would drop the earlier's lines).
    func locked<T>(_ body: () throws(ClientError) -> T) throws(ClientError) -> T {
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw FileSystem.error("cannot lock", path) }
        }
        defer { _ = flock(descriptor, LOCK_UN) }
        return try body()
    }

    /// The stamp table on disk; an empty one when there is none. Fails for a file that is not regular, cannot be
    /// read, or is over 64 MiB (some 340,000 entries).
    func readTable() throws(ClientError) -> StampTable {
        let limit = 64 << 20
        guard let bytes = try read(StampTable.fileName, limit: limit + 1) else { return StampTable() }
        guard bytes.count <= limit else {
            throw ClientError(.io, "\(FileSystem.join(path, StampTable.fileName)) is over \(limit) bytes")
        }
        return StampTable(text: bytes)
    }

    /// The names in the folder: the stamp table, per-entry stamps older fetches wrote, and temp files of a
    /// `write` cut short.
    func names() throws(ClientError) -> [String] {
        try FileSystem.list(descriptor: descriptor, path: path)
    }

    /// Removes every stamp, then the folder itself.
    func removeAll() throws(ClientError) {
        for name in try names() where !remove(name) { throw error("cannot remove", name) }
        guard rmdir(path) == 0 || errno == ENOENT else { throw FileSystem.error("cannot remove folder", path) }
    }

    private func error(_ call: String, _ name: String) -> ClientError {
        FileSystem.error(call, FileSystem.join(path, name))
    }
}
