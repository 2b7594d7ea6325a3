import Posix

#if canImport(Glibc)
import Glibc
#endif

/// The store's file calls: `Disk.Files` with each failure as a `StorageError` (`.diskFull` for ENOSPC and EDQUOT,
/// `.io` otherwise). Only the mapping lives here; the loops are `Posix`'s, shared with the client.
enum Disk {
    /// Closes a descriptor (the store's callers need not import Glibc for it).
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// Creates `path` and its missing parents with mode 0755; an existing folder is fine.
    static func makeDirectories(_ path: String) throws(StorageError) {
        try storage { () throws(SystemCallError) in try Files.makeDirectories(path) }
    }

    /// Creates `path` and its missing parents like `makeDirectories`, and fsyncs the parent of each folder it made, so
    /// the new folders survive a crash; true when it made one.
    static func makeDirectoriesDurably(_ path: String) throws(StorageError) -> Bool {
        try storage { () throws(SystemCallError) in try Files.makeDirectories(path, durably: true) }
    }

    /// Writes all of `bytes` to `fd` (the temp file at `path`).
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(StorageError) {
        try storage { () throws(SystemCallError) in try Files.writeAll(fd, bytes, path: path) }
    }

    /// Copies the first `count` bytes of `source` (its offset stays) to `destination`, the temp file at `path`; a
    /// failure is a `copy` of `path`.
    static func copyContents(from source: Int32, to destination: Int32, count: Int64, path: String) throws(StorageError)
    {
        do throws(SystemCallError) {
            try Files.copyContents(from: source, to: destination, count: count, sourcePath: path, destinationPath: path)
        } catch {
            throw StorageError.fromErrno(error.code, call: "copy", path: path)
        }
    }

    /// Makes a folder's entries durable (after a link, rename or unlink in it).
    static func fsyncDirectory(_ path: String) throws(StorageError) {
        try storage { () throws(SystemCallError) in try Files.fsyncDirectory(path) }
    }

    /// `lstat` of a path; nil when it does not exist.
    static func lstatIfExists(_ path: String) throws(StorageError) -> stat? {
        try storage { () throws(SystemCallError) in try Files.linkStatusIfExists(path) }
    }

    /// True when `info` describes a regular file.
    static func isRegular(_ info: stat) -> Bool { Files.isRegular(info) }

    /// Removes a file; false when it was already gone.
    @discardableResult
    static func unlinkIfExists(_ path: String) throws(StorageError) -> Bool {
        try storage { () throws(SystemCallError) in try Files.unlinkIfExists(path) }
    }

    /// Opens a folder for streaming its entry names; nil when it does not exist.
    static func directoryStream(_ path: String) throws(StorageError) -> DirectoryStream? {
        try storage { () throws(SystemCallError) in try DirectoryStream(path: path) }
    }

    /// The next name from `stream`, nil at the end.
    static func next(_ stream: DirectoryStream) throws(StorageError) -> String? {
        try storage { () throws(SystemCallError) in try stream.next() }
    }

    /// Calls `body` with each entry name of a folder (without `.` and `..`), streaming: no list is built.
    static func forEachEntry(in path: String, _ body: (String) throws(StorageError) -> Void) throws(StorageError) {
        guard let stream = try directoryStream(path) else { return }
        while let name = try next(stream) { try body(name) }
    }

    /// Runs one `Posix` call, its failure as a `StorageError`.
    @discardableResult
    private static func storage<T>(_ call: () throws(SystemCallError) -> T) throws(StorageError) -> T {
        do throws(SystemCallError) { return try call() } catch { throw StorageError(error) }
    }
}

extension StorageError {
    /// A failed system call as `.diskFull` (ENOSPC, EDQUOT) or `.io`.
    init(_ failure: SystemCallError) {
        self = .fromErrno(failure.code, call: failure.call, path: failure.path)
    }
}
