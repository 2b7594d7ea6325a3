#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FileSystemBlobStore {
    /// Creates, writes and removes a small probe file in the temp folder, the way an upload would start (making the
    /// folder again when it is missing).
    public func checkWritable() -> String? {
        let path = temporaryDirectory + "/heartbeat-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        var fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0, errno == ENOENT, (try? Disk.makeDirectories(temporaryDirectory)) != nil {
            // `.tmp/` removed while serving: an upload would make it again, so the store does take a write.
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        }
        guard fd >= 0 else { return "cannot create a file in the store: \(String(cString: strerror(errno)))" }
        defer { close(fd); unlink(path) }
        var byte: UInt8 = 0
        guard write(fd, &byte, 1) == 1 else { return "cannot write to the store: \(String(cString: strerror(errno)))" }
        return nil
    }
}
