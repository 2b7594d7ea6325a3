import Shared
import Testing
@testable import Storage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct DiskFullTests {
    /// Needs root to mount a 1 MiB tmpfs; cancelled (skipped) with a message when the mount is refused.
    @Test func aFullDiskIsADistinctErrorAndTheTempFileIsRemoved() throws {
        let root = TempRoot()
        defer { root.remove() }
        guard system("mount -t tmpfs -o size=1m tmpfs '\(root.path)' 2>/dev/null") == 0 else {
            try Test.cancel("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN); disk-full path not exercised")
        }
        defer { _ = system("umount '\(root.path)'") }
        let store = try FileSystemBlobStore(root: root.path)
        let blob = Blob(size: 2 << 20)
        let writer = try store.beginUpload(blob.digest, visibility: .public, expectedSize: Int64(blob.bytes.count))
        let error = #expect(throws: StorageError.self) { try writer.write(all: blob.bytes, chunk: 256 << 10) }
        guard case .diskFull? = error else {
            Issue.record("expected .diskFull, got \(String(describing: error))")
            return
        }
        #expect(entries(store.temporaryDirectory).isEmpty)
        #expect(try store.locate(blob.digest) == nil)
        // The store still works once there is room.
        let small = Blob(size: 1000)
        #expect(try upload(small, to: store, visibility: .public) == .stored)
    }
}
