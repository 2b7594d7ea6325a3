import Foundation
import Shared

@testable import Storage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fresh temp folder, removed (with everything in it) by `remove()`.
struct TempRoot {
    let path: String

    init() {
        var template = Array("/tmp/storage-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Random content and its digest.
struct Blob {
    let bytes: [UInt8]
    let digest: Digest

    init(size: Int) {
        bytes = Crypto.randomBytes(size)
        digest = StreamingHasher.digest(of: bytes)
    }
}

/// Names of the entries in a folder.
func entries(_ path: String) -> [String] {
    var names: [String] = []
    try? Disk.forEachEntry(in: path) { (name: String) throws(StorageError) in names.append(name) }
    return names.sorted()
}

/// The bytes of a file, or nil.
func readFile(_ path: String) -> [UInt8]? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { break }
        out += buffer[0..<n]
    }
    return out
}

/// Writes bytes to a new file.
func writeFile(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(fd >= 0, "open \(path) failed")
    let written = bytes.withUnsafeBytes { (try? Disk.writeAll(fd, $0, path: path)) != nil }
    precondition(written, "write \(path) failed")
    close(fd)
}

extension BlobUpload {
    /// Writes all of `bytes` in chunks of `chunk`.
    func write(all bytes: [UInt8], chunk: Int = 7919) throws(StorageError) {
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + chunk, bytes.count)
            var failure: StorageError?
            bytes[offset..<end].withUnsafeBytes { raw in
                do throws(StorageError) { try self.write(raw) } catch { failure = error }
            }
            if let failure { throw failure }
            offset = end
        }
    }
}

/// Uploads `blob` in one go.
@discardableResult
func upload(_ blob: Blob, to store: FileSystemBlobStore, visibility: Visibility) throws(StorageError) -> CommitOutcome {
    let writer = try store.beginUpload(blob.digest, visibility: visibility, expectedSize: Int64(blob.bytes.count))
    try writer.write(all: blob.bytes)
    return try writer.commit()
}
