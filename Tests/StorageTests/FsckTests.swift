import Shared
import Testing

@testable import Storage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct FsckTests {
    @Test func findsCorruptAndStrayFilesQuarantinesThemAndIndexesHandCopiedBlobs() throws {
        let root = TempRoot()
        defer { root.remove() }
        let store = try FileSystemBlobStore(root: root.path)
        let index = try SQLiteMetadataIndex(root: root.path)
        let good = Blob(size: 4000), corrupted = Blob(size: 4000), handCopied = Blob(size: 123), both = Blob(size: 9)
        try upload(good, to: store, visibility: .public)
        try index.recordStored(good.digest, size: 4000, visibility: .public)
        try upload(corrupted, to: store, visibility: .internal)
        var flipped = corrupted.bytes
        flipped[100] ^= 0xff
        writeFile(store.path(for: corrupted.digest, visibility: .internal), flipped)
        writeFile(store.path(for: handCopied.digest, visibility: .public), handCopied.bytes)
        writeFile(store.directory(for: .public, algorithm: .sha512) + "/notes.txt", Array("hello".utf8))
        #expect(mkdir(store.directory(for: .internal, algorithm: .sha512) + "/subdir", 0o755) == 0)
        writeFile(store.path(for: both.digest, visibility: .public), both.bytes)
        writeFile(store.path(for: both.digest, visibility: .internal), both.bytes)

        let dry = try StoreChecker(store: store, index: index, repair: false).run()
        #expect(dry.verified == 3)
        #expect(dry.corrupt.map(\.path) == [store.path(for: corrupted.digest, visibility: .internal)])
        #expect(dry.corrupt.first?.reason.contains(corrupted.digest.hex) == true)
        #expect(
            Set(dry.stray.map(\.path)) == [
                store.directory(for: .public, algorithm: .sha512) + "/notes.txt",
                store.directory(for: .internal, algorithm: .sha512) + "/subdir",
                store.path(for: both.digest, visibility: .public)
            ])
        #expect(!dry.isClean)
        #expect(Set(dry.indexed) == [handCopied.digest, both.digest])
        #expect(
            try index.file(handCopied.digest)
                == FileRecord(
                    digest: handCopied.digest, size: 123, visibility: .public,
                    firstSeen: try #require(try index.file(handCopied.digest)).firstSeen,
                    hasInstances: true))
        #expect(try store.locate(corrupted.digest) == .internal)  // a dry run moves nothing

        let repaired = try StoreChecker(store: store, index: index, repair: true).run()
        #expect(repaired.isClean)
        #expect(repaired.corrupt.count == 1 && repaired.stray.count == 3)
        #expect(repaired.indexed.isEmpty)
        #expect(entries(store.quarantineDirectory).count == 4)
        #expect(try store.locate(corrupted.digest) == nil)
        #expect(try store.locate(both.digest) == .internal)
        #expect(readFile(store.path(for: good.digest, visibility: .public)) == good.bytes)

        let again = try StoreChecker(store: store, index: index, repair: false).run()
        #expect(again.isClean && again.corrupt.isEmpty && again.stray.isEmpty && again.verified == 3)
    }
}
