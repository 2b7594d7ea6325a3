import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Files made with `O_TMPFILE`: created with no name, so a half-written download is never visible anywhere, and
/// given a name with `linkat` once complete and verified (one directory entry, where a named temp file costs two
/// and a rename).
///
/// Safe from any thread.
enum UnnamedFile {
    /// Opens a new unnamed file for reading and writing in `folder`; -1 when the filesystem or kernel has no
    /// `O_TMPFILE` (or the folder cannot take one), in which case the caller makes a named temp file.
    static func create(in folder: String) -> Int32 {
        guard canLink else { return -1 }
        // Without O_EXCL: the file may later be linked into place.
        return open(folder, tmpfile | O_RDWR | O_CLOEXEC, 0o644)
    }

    /// False when `/proc/self/fd` is missing (a container without `/proc`): `link` could then fail for want of
    /// `CAP_DAC_READ_SEARCH`, so no unnamed file is made at all. Checked once per process.
    private static let canLink = access("/proc/self/fd", X_OK) == 0

    /// `O_TMPFILE` (`__O_TMPFILE | O_DIRECTORY`) and `AT_EMPTY_PATH`, which Glibc's module leaves out (they need
    /// `_GNU_SOURCE`); the values of asm-generic, which x86-64 and arm64 use.
    private static let tmpfile: Int32 = 0o20_000_000 | O_DIRECTORY
    private static let emptyPath: Int32 = 0x1000

    /// Links the open file `fd` as `name` relative to the folder `directory` (`AT_FDCWD`: the current one); 0, or
    /// the `errno` of the failure (`EEXIST` when `name` exists, `EXDEV` across filesystems).
    ///
    /// `AT_EMPTY_PATH` links the descriptor itself but needs `CAP_DAC_READ_SEARCH`; without it (`ENOENT`) the
    /// `/proc/self/fd` path is linked instead, and the choice is remembered for the rest of the process.
    static func link(_ fd: Int32, at directory: Int32, _ name: String) -> Int32 {
        if emptyPathWorks.load(ordering: .relaxed) {
            if linkat(fd, "", directory, name, emptyPath) == 0 { return 0 }
            let code = errno
            guard code == ENOENT || code == EPERM else { return code }
            // ENOENT is also what a missing folder gives: the /proc form below then fails the same way, and says so.
            emptyPathWorks.store(false, ordering: .relaxed)
        }
        if linkat(AT_FDCWD, "/proc/self/fd/\(fd)", directory, name, AT_SYMLINK_FOLLOW) == 0 { return 0 }
        return errno
    }

    /// False once `AT_EMPTY_PATH` was refused: the process lacks `CAP_DAC_READ_SEARCH`.
    private static let emptyPathWorks = Atomic<Bool>(true)
}
