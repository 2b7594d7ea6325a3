#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The entry names of one folder, read one at a time with `readdir` (no list is built), closed on deinit.
final class DirectoryStream {
    private let dir: OpaquePointer
    /// The folder's path.
    let path: String

    /// Opens a folder; nil when it does not exist.
    init?(path: String) throws(StorageError) {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return nil }
            throw StorageError.fromErrno(errno, call: "opendir", path: path)
        }
        self.dir = dir
        self.path = path
    }

    deinit { closedir(dir) }

    /// The next entry name (never `.` or `..`), nil at the end.
    func next() throws(StorageError) -> String? {
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw StorageError.fromErrno(errno, call: "readdir", path: path) }
                return nil
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { return name }
        }
    }
}
