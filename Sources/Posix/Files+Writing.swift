#if canImport(Glibc)
import Glibc
#endif

extension Files {
    /// Writes all of `bytes` to `fd`, retrying short writes and `EINTR`; `path` names `fd` in the error.
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(SystemCallError) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, base + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemCallError("write", path: path)
            }
            offset += n
        }
    }

    /// Writes all of `text`'s UTF-8 to `fd` (see `writeAll(_:_:path:)`).
    public static func writeAll(_ fd: Int32, text: String, path: String) throws(SystemCallError) {
        var text = text
        let result: Result<Void, SystemCallError> = text.withUTF8 { buffer in
            do throws(SystemCallError) {
                try writeAll(fd, UnsafeRawBufferPointer(buffer), path: path)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Copies the first `count` bytes of `source` (read with `pread`, so its offset stays) to `destination`'s offset,
    /// in 1 MiB pieces. A source shorter than `count` fails with `EIO`; `sourcePath` and `destinationPath` name the
    /// descriptors in the error.
    public static func copyContents(
        from source: Int32, to destination: Int32, count: Int64, sourcePath: String, destinationPath: String
    ) throws(SystemCallError) {
        let size = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 4096)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while offset < count {
            let n = pread(source, buffer.baseAddress, Int(min(Int64(size), count - offset)), off_t(offset))
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemCallError("pread", path: sourcePath)
            }
            // The file is shorter than what was written to it.
            if n == 0 { throw SystemCallError("pread", path: sourcePath, code: EIO) }
            try writeAll(destination, UnsafeRawBufferPointer(rebasing: buffer[0..<n]), path: destinationPath)
            offset += Int64(n)
        }
    }
}
