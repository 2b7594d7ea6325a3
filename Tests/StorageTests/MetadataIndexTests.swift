import Shared
import Testing
@testable import Storage

@Suite struct MetadataIndexTests {
    @Test func tokensAreCreatedAuthenticatedRevokedAndListedAndNeverStored() throws {
        let root = TempRoot()
        defer { root.remove() }
        let index = try MetadataIndex(root: root.path)
        let generation = try index.tokenGeneration()
        let (id, token) = try index.createToken(user: "alice", permissions: [.uploadPublic, .downloadInternal])
        #expect(token.count == 64)
        #expect(try index.tokenGeneration() > generation)
        let record = try #require(try index.authenticate(token: token))
        #expect(record == TokenRecord(id: id, user: "alice", permissions: [.uploadPublic, .downloadInternal]))
        let altered = String(token.dropLast()) + (token.hasSuffix("0") ? "1" : "0")
        #expect(try index.authenticate(token: altered) == nil)
        #expect(try index.authenticate(token: "") == nil)

        let before = try index.tokenGeneration()
        try index.touch(tokenID: id)
        #expect(try index.tokenGeneration() == before)
        let listed = try index.listTokens()
        #expect(listed.count == 1)
        #expect(listed[0].user == "alice" && listed[0].permissions == [.downloadInternal, .uploadPublic])
        #expect(listed[0].lastUsed != nil && listed[0].revoked == nil)

        #expect(try index.revokeToken(id: id) == true)
        #expect(try index.revokeToken(id: id) == false)
        #expect(throws: IndexError.notFound("token 999")) { try index.revokeToken(id: 999) }
        #expect(try index.authenticate(token: token) == nil)
        #expect(try index.listTokens()[0].revoked != nil)

        // The token text must appear in no file of the database (main file and WAL).
        for suffix in ["", "-wal"] {
            let bytes = readFile(index.path + suffix) ?? []
            #expect(!bytes.isEmpty || suffix == "-wal")
            #expect(!contains(bytes, Array(token.utf8)), "token text found in tooltool.sqlite\(suffix)")
        }
    }

    @Test func anotherConnectionSeesNewAndRevokedTokensAndDataVersionMoves() throws {
        let root = TempRoot()
        defer { root.remove() }
        let server = try MetadataIndex(root: root.path)
        let cli = try MetadataIndex(root: root.path)
        let version = try server.dataVersion()
        let (id, token) = try cli.createToken(user: "ci", permissions: [.downloadPublic])
        #expect(try server.dataVersion() != version)
        #expect(try server.authenticate(token: token)?.id == id)
        try cli.revokeToken(id: id)
        #expect(try server.authenticate(token: token) == nil)
    }

    @Test func schemaSurvivesReopenAndKeepsTheSecret() throws {
        let root = TempRoot()
        defer { root.remove() }
        let secret: [UInt8]
        let token: String
        do {
            let index = try MetadataIndex(root: root.path)
            secret = try index.secret()
            token = try index.createToken(user: "bob", permissions: [.manage]).token
        }
        #expect(secret.count == 32)
        let reopened = try MetadataIndex(root: root.path)
        #expect(try reopened.secret() == secret)
        #expect(try reopened.authenticate(token: token)?.user == "bob")
        let other = TempRoot()
        defer { other.remove() }
        #expect(try MetadataIndex(root: other.path).secret() != secret)
    }

    @Test func batchesAreRecordedValidatedAndSearched() throws {
        let root = TempRoot()
        defer { root.remove() }
        let index = try MetadataIndex(root: root.path, clock: { 1_700_000_000 })
        let a = Blob(size: 10), b = Blob(size: 20)
        let first = try index.createBatch(author: "alice", message: "Add clang 17 toolchain", files: [
            BatchFile(filename: "clang.tar.xz", digest: a.digest, size: 10, visibility: .internal),
            BatchFile(filename: "README", digest: b.digest, size: 20, visibility: .public),
        ])
        #expect(first.uploaded == "2023-11-14T22:13:20Z")
        #expect(first.files.map(\.filename) == ["README", "clang.tar.xz"])
        #expect(try index.batch(id: first.id) == first)
        #expect(try index.batch(id: 999) == nil)
        #expect(try index.file(a.digest)?.hasInstances == false)

        // Not stored yet: a new declaration replaces the old one. Stored: it must agree.
        try index.recordStored(a.digest, size: 10, visibility: .internal)
        #expect(throws: IndexError.sizeConflict(filename: "x", digest: a.digest, stored: 10, declared: 11)) {
            try index.createBatch(author: "bob", message: "m", files: [BatchFile(filename: "x", digest: a.digest, size: 11, visibility: .internal)])
        }
        #expect(throws: IndexError.visibilityConflict(filename: "x", digest: a.digest, stored: .internal, declared: .public)) {
            try index.createBatch(author: "bob", message: "m", files: [BatchFile(filename: "x", digest: a.digest, size: 10, visibility: .public)])
        }
        #expect(throws: IndexError.self) { try index.createBatch(author: "bob", message: "", files: []) }
        #expect(throws: IndexError.self) {
            try index.createBatch(author: "bob", message: "m", files: [BatchFile(filename: "../x", digest: a.digest, size: 10, visibility: .internal)])
        }
        let second = try index.createBatch(author: "bob", message: "gcc rebuild", files: [
            BatchFile(filename: "gcc-clang-wrapper.sh", digest: a.digest, size: 10, visibility: .internal),
        ])

        #expect(try index.searchBatches("CLANG").map(\.id) == [first.id])
        #expect(try index.searchBatches("bob").map(\.id) == [second.id])
        #expect(try index.searchBatches("").map(\.id) == [second.id, first.id])
        #expect(try index.searchBatches("al").map(\.id) == [first.id])
        #expect(try index.searchBatches("\"x").isEmpty)
        #expect(try index.searchBatches("e", limit: 1).map(\.id) == [second.id])

        #expect(try index.searchFiles("clang").map(\.digest) == [a.digest])
        #expect(try index.searchFiles("READ").map(\.digest) == [b.digest])
        #expect(try index.searchFiles("clang", visibilities: [.public]).isEmpty)
        #expect(try index.searchFiles(String(b.digest.hex.prefix(6))).first?.digest == b.digest)
        #expect(try index.searchFiles("sh").map(\.digest) == [a.digest])

        let details = try #require(try index.fileDetails(a.digest))
        #expect(details.file.size == 10 && details.file.hasInstances)
        #expect(details.batches.map(\.batchID) == [second.id, first.id])
        #expect(details.batches.map(\.filename) == ["gcc-clang-wrapper.sh", "clang.tar.xz"])

        #expect(try index.setVisibility(a.digest, to: .public).visibility == .public)
        #expect(try index.markInstancesGone(a.digest).hasInstances == false)
        let unknown = Blob(size: 1).digest
        #expect(throws: IndexError.notFound("file \(unknown.hex)")) { try index.markInstancesGone(unknown) }
    }
}

/// True when `needle` occurs in `haystack`.
func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard needle.count <= haystack.count, let first = needle.first else { return needle.isEmpty }
    var index = 0
    while index <= haystack.count - needle.count {
        if haystack[index] == first && Array(haystack[index..<index + needle.count]) == needle { return true }
        index += 1
    }
    return false
}
