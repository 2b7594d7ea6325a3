#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Size and digest of a file, computed in one pass.
public struct FileDigest: Sendable, Equatable {
    /// Size in bytes.
    public let size: Int64
    /// Digest of the content.
    public let digest: Digest

    public init(digest: Digest, size: Int64) {
        self.digest = digest
        self.size = size
    }

    /// Block size used to read files: large enough that the syscall cost vanishes next to hashing.
    public static let blockSize = 1 << 20

    /// Hashes a file in large blocks without loading it into memory.
    public static func compute(path: String, algorithm: HashAlgorithm = .sha512) throws(DigestError) -> FileDigest {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, errno: errno) }
        defer { close(fd) }
        return try compute(fd: fd, path: path, algorithm: algorithm)
    }

    /// Hashes an open file descriptor from its current offset to its end.
    public static func compute(
        fd: Int32, path: String, algorithm: HashAlgorithm = .sha512
    ) throws(DigestError) -> FileDigest {
        #if canImport(Glibc)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        #endif
        let hasher = StreamingHasher(algorithm: algorithm)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 4096)
        defer { buffer.deallocate() }
        var size: Int64 = 0
        while true {
            let n = read(fd, buffer.baseAddress, blockSize)
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, errno: errno)
            }
            if n == 0 { break }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            size += Int64(n)
        }
        return FileDigest(digest: hasher.finish(), size: size)
    }
}
