import Shared
import Testing

@testable import Storage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct DiskFullTests {
    /// A 1 MiB tmpfs (real ENOSPC). Needs root to mount it; cancelled (skipped) with a message when the mount is refused.
    @Test func aFullDiskIsADistinctErrorAndTheTempFileIsRemoved() throws {
        let root = TempRoot()
        defer { root.remove() }
        guard system("mount -t tmpfs -o size=1m tmpfs '\(root.path)' 2>/dev/null") == 0 else {
            try Test.cancel("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN); disk-full path not exercised")
        }
        defer { _ = system("umount '\(root.path)'") }
        let store = try FileSystemBlobStore(root: root.path)
        // Larger than the free space: refused when it begins, before any byte, with nothing left behind.
        let blob = Blob(size: 2 << 20)
        let refused = #expect(throws: StorageError.self) {
            try store.beginUpload(blob.digest, visibility: .public, expectedSize: Int64(blob.bytes.count))
        }
        guard case .insufficientSpace(_, let needed, let available)? = refused else {
            Issue.record("expected .insufficientSpace, got \(String(describing: refused))")
            return
        }
        #expect(needed == 2 << 20 && available <= 1 << 20)
        #expect(entries(store.temporaryDirectory).isEmpty)
        // Fits when it begins, but the disk fills up (a filler file) while it streams: a real ENOSPC from the write.
        let fits = Blob(size: 600 << 10)
        let writer = try store.beginUpload(fits.digest, visibility: .public, expectedSize: Int64(fits.bytes.count))
        writeFile(root.path + "/filler", Array(repeating: 0, count: 700 << 10))
        let error = #expect(throws: StorageError.self) { try writer.write(all: fits.bytes, chunk: 64 << 10) }
        guard case .diskFull? = error else {
            Issue.record("expected .diskFull, got \(String(describing: error))")
            return
        }
        #expect(entries(store.temporaryDirectory).isEmpty)
        #expect(try store.locate(fits.digest) == nil)
        unlink(root.path + "/filler")
        // The store still works once there is room.
        let small = Blob(size: 1000)
        #expect(try upload(small, to: store, visibility: .public) == .stored)
    }
}
