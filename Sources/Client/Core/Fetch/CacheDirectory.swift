#if canImport(Glibc)
import Glibc
#endif

/// The cache folder held open, so every entry is reached with one `*at` call relative to it instead of a path walk.
///
/// Safe from any thread: the descriptor never changes until `deinit`.
final class CacheDirectory: Sendable {
    /// The folder's path, for messages and for the calls that still take paths (hashing, copying).
    let path: String
    /// The open folder (`O_DIRECTORY`).
    let descriptor: Int32

    /// Opens `path`, which must be a folder (a symlink to one is followed, as a path-based cache always did).
    init(path: String) throws(ClientError) {
        self.path = path
        descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileSystem.error("cannot open folder", path) }
    }

    deinit { close(descriptor) }

    /// `lstat` of entry `name`; nil when it does not exist (or cannot be read).
    func status(_ name: String) -> stat? {
        var info = stat()
        return fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 ? info : nil
    }

    /// Hard-links entry `name` at `target` (a path relative to the current folder, which must not exist).
    func link(_ name: String, to target: String) -> Bool {
        linkat(descriptor, name, AT_FDCWD, target, 0) == 0
    }

    /// Hard-links `source` (a path) as entry `name`, which must not exist.
    func link(from source: String, as name: String) -> Bool {
        linkat(AT_FDCWD, source, descriptor, name, 0) == 0
    }

    /// Sets entry `name`'s access and modification times to now.
    func touch(_ name: String) {
        _ = utimensat(descriptor, name, nil, AT_SYMLINK_NOFOLLOW)
    }
}
