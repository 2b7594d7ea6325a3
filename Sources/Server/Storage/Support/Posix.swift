#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin helpers over the POSIX calls the filesystem store repeats, each turning errno into a `StorageError`.
enum Posix {
    /// Closes a descriptor (the store's callers need not import Glibc for it).
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Creates `path` and its missing parents with mode 0755; an existing folder is fine.
    static func makeDirectories(_ path: String) throws(StorageError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw StorageError.fromErrno(errno, call: "mkdir", path: current)
            }
        }
    }

    /// Creates `path` and its missing parents like `makeDirectories`, and fsyncs the parent of each folder it made, so
    /// the new folders survive a crash; true when it made one.
    static func makeDirectoriesDurably(_ path: String) throws(StorageError) -> Bool {
        var current = path.hasPrefix("/") ? "" : "."
        var made = false
        for component in path.split(separator: "/") {
            let parent = current.isEmpty ? "/" : current
            current += "/" + component
            if mkdir(current, 0o755) == 0 {
                made = true
                try fsyncDirectory(parent)
            } else if errno != EEXIST {
                throw StorageError.fromErrno(errno, call: "mkdir", path: current)
            }
        }
        return made
    }

    /// Writes all `count` bytes at `base`, retrying short writes and EINTR; returns 0 or the failing errno.
    static func writeAll(_ fd: Int32, _ base: UnsafeRawPointer, _ count: Int) -> Int32 {
        var offset = 0
        while offset < count {
            let n = write(fd, base + offset, count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += n
        }
        return 0
    }

    /// Copies the first `count` bytes of `source` (read with `pread`, so its offset stays) to `destination`'s offset;
    /// returns nil or the failing errno.
    static func copyContents(from source: Int32, to destination: Int32, count: Int64) -> Int32? {
        let size = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while offset < count {
            let n = pread(source, buffer, Int(min(Int64(size), count - offset)), off_t(offset))
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            if n == 0 { return EIO }  // The file is shorter than what was written to it.
            let code = writeAll(destination, buffer, n)
            if code != 0 { return code }
            offset += Int64(n)
        }
        return nil
    }

    /// Makes a folder's entries durable (after a link, rename or unlink in it).
    static func fsyncDirectory(_ path: String) throws(StorageError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError.fromErrno(errno, call: "open", path: path) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw StorageError.fromErrno(errno, call: "fsync", path: path) }
    }

    /// `lstat` of a path; nil when it does not exist.
    static func lstatIfExists(_ path: String) throws(StorageError) -> stat? {
        var info = stat()
        if lstat(path, &info) == 0 { return info }
        if errno == ENOENT || errno == ENOTDIR { return nil }
        throw StorageError.fromErrno(errno, call: "lstat", path: path)
    }

    /// True when `info` describes a regular file.
    static func isRegular(_ info: stat) -> Bool {
        (info.st_mode & S_IFMT) == S_IFREG
    }

    /// Removes a file; false when it was already gone.
    @discardableResult
    static func unlinkIfExists(_ path: String) throws(StorageError) -> Bool {
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw StorageError.fromErrno(errno, call: "unlink", path: path)
    }

    /// Calls `body` with each entry name of a folder (without `.` and `..`), streaming: no list is built.
    static func forEachEntry(in path: String, _ body: (String) throws(StorageError) -> Void) throws(StorageError) {
        guard let stream = try DirectoryStream(path: path) else { return }
        while let name = try stream.next() { try body(name) }
    }
}
