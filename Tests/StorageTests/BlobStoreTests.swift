import Shared
import Testing

@testable import Storage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct BlobStoreTests {
    @Test func commitPublishesTheBytesUnderTheFinalNameAndRemovesTheTempFile() throws {
        let root = TempRoot()
        defer { root.remove() }
        let store = try FileSystemBlobStore(root: root.path)
        let blob = Blob(size: 300_000)
        let writer = try store.beginUpload(blob.digest, visibility: .public, expectedSize: Int64(blob.bytes.count))
        try writer.write(all: blob.bytes)
        #expect(entries(store.temporaryDirectory).count == 1)
        #expect(try writer.commit() == .stored)
        #expect(readFile(store.path(for: blob.digest, visibility: .public)) == blob.bytes)
        #expect(entries(store.temporaryDirectory).isEmpty)
        #expect(try store.locate(blob.digest) == .public)
        var info = stat()
        #expect(stat(store.path(for: blob.digest, visibility: .public), &info) == 0)
        #expect(info.st_mode & 0o777 == 0o644)

        let opened = try #require(try store.openForReading(blob.digest))
        defer { opened.close() }
        #expect(opened.size == Int64(blob.bytes.count))
        #expect(opened.visibility == .public)
    }

    @Test func digestMismatchLeavesNothingAndNamesBothDigests() throws {
        let root = TempRoot()
        defer { root.remove() }
        let store = try FileSystemBlobStore(root: root.path)
        let claimed = Blob(size: 1000)
        let sent = Blob(size: 1000)
        let writer = try store.beginUpload(claimed.digest, visibility: .internal, expectedSize: 1000)
        try writer.write(all: sent.bytes)
        let error = #expect(throws: StorageError.self) { try writer.commit() }
        #expect(
            error
                == .digestMismatch(expected: claimed.digest, actual: sent.digest, expectedSize: 1000, actualSize: 1000))
        #expect(error.map { "\($0)" }?.contains(sent.digest.hex) == true)
        #expect(error.map { "\($0)" }?.contains(claimed.digest.hex) == true)
        #expect(try store.locate(claimed.digest) == nil)
        #expect(entries(store.temporaryDirectory).isEmpty)
        #expect(throws: StorageError.uploadClosed(claimed.digest)) { try writer.commit() }
    }

    @Test func shortBodyFailsAndAbortRemovesTheTempFile() throws {
        let root = TempRoot()
        defer { root.remove() }
        let store = try FileSystemBlobStore(root: root.path)
        let blob = Blob(size: 5000)
        let short = try store.beginUpload(blob.digest, visibility: .public, expectedSize: 5000)
        try short.write(all: Array(blob.bytes.prefix(4000)))
        let error = #expect(throws: StorageError.self) { try short.commit() }
        guard case .digestMismatch(_, _, 5000, 4000)? = error else {
            Issue.record("expected a size mismatch 5000/4000, got \(String(describing: error))")
            return
        }
        let aborted = try store.beginUpload(blob.digest, visibility: .public, expectedSize: 5000)
        try aborted.write(all: Array(blob.bytes.prefix(10)))
        aborted.abort()
        aborted.abort()
        let long = try store.beginUpload(blob.digest, visibility: .public, expectedSize: 5000)
        #expect(throws: StorageError.tooLarge(expectedSize: 5000, got: 5001)) { try long.write(all: blob.bytes + [0]) }
        #expect(entries(store.temporaryDirectory).isEmpty)
        #expect(try store.locate(blob.digest) == nil)
    }

    @Test func duplicateUploadReportsAlreadyExistedAndOtherVisibilityConflicts() throws {
        let root = TempRoot()
        defer { root.remove() }
        let store = try FileSystemBlobStore(root: root.path)
        let blob = Blob(size: 2048)
        #expect(try upload(blob, to: store, visibility: .internal) == .stored)
        #expect(try upload(blob, to: store, visibility: .internal) == .alreadyExisted)
        #expect(throws: StorageError.visibilityConflict(blob.digest, stored: .internal, requested: .public)) {
            try upload(blob, to: store, visibility: .public)
        }
        #expect(try store.locate(blob.digest) == .internal)
        #expect(entries(store.directory(for: .public, algorithm: .sha512)).isEmpty)
        #expect(entries(store.temporaryDirectory).isEmpty)
    }

    @Test func parallelUploadsOfOneDigestLeaveOneWholeFile() async throws {
        let root = TempRoot()
        defer { root.remove() }
        let store = try FileSystemBlobStore(root: root.path)
        let blob = Blob(size: 1 << 20)
        let outcomes = try await withThrowingTaskGroup(of: CommitOutcome.self) { group in
            for _ in 0..<16 {
                group.addTask { try upload(blob, to: store, visibility: .public) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.count == 16)
        #expect(outcomes.filter { $0 == .stored }.count == 1)
        #expect(readFile(store.path(for: blob.digest, visibility: .public)) == blob.bytes)
        #expect(entries(store.temporaryDirectory).isEmpty)
    }

    @Test func racingVisibilitiesNeverLeaveTheBlobInBothFolders() async throws {
        let root = TempRoot()
        defer { root.remove() }
        let store = try FileSystemBlobStore(root: root.path)
        let blob = Blob(size: 4096)
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<16 {
                group.addTask { _ = try? upload(blob, to: store, visibility: index % 2 == 0 ? .public : .internal) }
            }
        }
        let found = Visibility.allCases.filter {
            entries(store.directory(for: $0, algorithm: .sha512)) == [blob.digest.hex]
        }
        #expect(found.count == 1)
    }

    @Test func setVisibilityMovesTheBlobAndDeleteRemovesIt() throws {
        let root = TempRoot()
        defer { root.remove() }
        let store = try FileSystemBlobStore(root: root.path)
        let blob = Blob(size: 100)
        try upload(blob, to: store, visibility: .internal)
        #expect(try store.setVisibility(blob.digest, to: .public) == true)
        #expect(try store.setVisibility(blob.digest, to: .public) == false)
        let opened = try #require(try store.openForReading(blob.digest))
        opened.close()
        #expect(opened.visibility == .public)
        #expect(readFile(store.path(for: blob.digest, visibility: .public)) == blob.bytes)
        #expect(readFile(store.path(for: blob.digest, visibility: .internal)) == nil)

        #expect(try store.delete(blob.digest) == .public)
        #expect(try store.openForReading(blob.digest) == nil)
        #expect(throws: StorageError.notFound(blob.digest)) { try store.delete(blob.digest) }
        #expect(throws: StorageError.notFound(blob.digest)) { try store.setVisibility(blob.digest, to: .internal) }
    }

    /// An unlocked `.upload` file goes whatever its age; this process's own live upload (locked through another open
    /// file description of the same process) stays; other files (a `.new` one caught before its lock) only when old.
    @Test func sweepRemovesUnlockedUploadFilesAtAnyAgeAndNeverALiveOne() throws {
        let root = TempRoot()
        defer { root.remove() }
        let store = try FileSystemBlobStore(root: root.path)
        let blob = Blob(size: 10)
        let live = try store.beginUpload(blob.digest, visibility: .public, expectedSize: 10)
        try live.write(all: Array(blob.bytes.prefix(5)))
        let livePath = try #require(entries(store.temporaryDirectory).first)
        #expect(livePath.hasSuffix(".upload"), "a live upload's file has its locked name: \(livePath)")
        var old = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        _ = utimensat(AT_FDCWD, store.temporaryDirectory + "/" + livePath, &old, 0)
        let dir = store.temporaryDirectory
        writeFile(dir + "/fresh-dead.upload", [1, 2, 3])
        writeFile(dir + "/old-dead.upload", [1, 2, 3])
        #expect(utimensat(AT_FDCWD, dir + "/old-dead.upload", &old, 0) == 0)
        writeFile(dir + "/fresh.new", [1])
        writeFile(dir + "/old.new", [1])
        #expect(utimensat(AT_FDCWD, dir + "/old.new", &old, 0) == 0)
        // An old `.new` file whose writer is between its `open` and its `rename` holds the lock: it stays.
        writeFile(dir + "/old-locked.new", [1])
        #expect(utimensat(AT_FDCWD, dir + "/old-locked.new", &old, 0) == 0)
        let holder = open(dir + "/old-locked.new", O_RDONLY)
        defer { close(holder) }
        #expect(flock(holder, LOCK_EX | LOCK_NB) == 0)

        #expect(try store.sweepTemporaryFiles() == 3)
        #expect(entries(dir) == [livePath, "fresh.new", "old-locked.new"].sorted())
        try live.write(all: Array(blob.bytes.suffix(5)))
        #expect(try live.commit() == .stored)
        #expect(entries(dir) == ["fresh.new", "old-locked.new"])
    }

    @Test func openForReadingIgnoresUnknownDigests() throws {
        let root = TempRoot()
        defer { root.remove() }
        let store = try FileSystemBlobStore(root: root.path)
        #expect(try store.openForReading(Blob(size: 1).digest) == nil)
    }

    /// `storedBlob`, a PUT's one look before its body: nil for an unknown digest, the visibility and size of a stored
    /// blob, pvt/ first when a blob is in both folders, and an error (not a miss) for a folder at a blob's name.
    @Test func storedBlobFindsVisibilityAndSizeInOneLook() throws {
        let root = TempRoot()
        defer { root.remove() }
        let store = try FileSystemBlobStore(root: root.path)
        let blob = Blob(size: 1234), other = Blob(size: 10)
        #expect(try store.storedBlob(blob.digest) == nil)
        try upload(blob, to: store, visibility: .public)
        #expect(try store.storedBlob(blob.digest) == StoredBlob(visibility: .public, size: 1234))
        writeFile(store.path(for: blob.digest, visibility: .internal), blob.bytes)
        #expect(try store.storedBlob(blob.digest) == StoredBlob(visibility: .internal, size: 1234))
        #expect(mkdir(store.path(for: other.digest, visibility: .public), 0o755) == 0)
        #expect(throws: StorageError.self) { try store.storedBlob(other.digest) }
    }
}
