import Foundation
import Posix
import TestSupport
import Testing

/// `Posix.Files` in process, on a real temp folder: the folder walk both sides use, whole writes, listings.
@Suite struct FilesTests {
    @Test func makeDirectoriesMakesEachMissingFolderOnceAndSaysWhetherItMadeOne() throws {
        let root = TemporaryDirectory(prefix: "posix")
        let deep = root.file("a/b/c")
        #expect(try Files.makeDirectories(deep, durably: true))
        #expect(Files.status(deep).map(Files.isDirectory) == true)
        #expect(try !Files.makeDirectories(deep), "an existing folder is fine and nothing is made")
        #expect(try Files.makeDirectories(root.path + "//a/b/d/"), "doubled and trailing slashes are skipped")
        #expect(Files.status(root.file("a/b/d")).map(Files.isDirectory) == true)
    }

    @Test func makeDirectoriesNamesTheFolderThatCouldNotBeMade() throws {
        let root = TemporaryDirectory(prefix: "posix")
        try Data("not a folder".utf8).write(to: URL(fileURLWithPath: root.file("file")))
        let failure = #expect(throws: SystemCallError.self) { try Files.makeDirectories(root.file("file/sub/x")) }
        #expect(failure?.call == "mkdir")
        #expect(failure?.path == root.file("file/sub"))
        #expect(failure?.code == ENOTDIR)
        #expect(failure?.description == "mkdir(\(root.file("file/sub"))) failed: Not a directory (errno 20)")
    }

    @Test func writeAllWritesEveryByteAndEntriesListsThem() throws {
        let root = TemporaryDirectory(prefix: "posix")
        let path = root.file("data")
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        try #require(fd >= 0)
        let bytes = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try bytes.withUnsafeBytes { buffer in try Files.writeAll(fd, buffer, path: path) }
        try Files.writeAll(fd, text: "end", path: path)
        close(fd)
        #expect(FileManager.default.contents(atPath: path) == Data(bytes + Array("end".utf8)))
        #expect(try Files.unlinkIfExists(root.file("missing")) == false)
        #expect(try Files.entries(in: root.path) == ["data"])
        #expect(throws: SystemCallError("opendir", path: root.file("missing"), code: ENOENT)) {
            try Files.entries(in: root.file("missing"))
        }
    }
}
