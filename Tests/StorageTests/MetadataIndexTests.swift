import Dispatch
import Foundation
import Shared
import Synchronization
import TestSupport
import Testing

@testable import Storage

/// The index contract, run against every backend (`IndexBackend`): the same calls, the same answers.
@Suite struct MetadataIndexTests {
    @Test(arguments: IndexBackend.allCases)
    func tokensAreCreatedAuthenticatedRevokedAndListed(_ backend: IndexBackend) throws {
        let fixture = try IndexUnderTest(backend)
        defer { fixture.remove() }
        let index = try fixture.open()
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
    }

    @Test(arguments: IndexBackend.allCases)
    func anotherConnectionSeesNewAndRevokedTokensAndTheGenerationMoves(_ backend: IndexBackend) throws {
        let fixture = try IndexUnderTest(backend)
        defer { fixture.remove() }
        let server = try fixture.open()
        let cli = try fixture.open()
        let generation = try server.tokenGeneration()
        let (id, token) = try cli.createToken(user: "ci", permissions: [.downloadPublic])
        // SQLite sees another connection's commit at once; PostgreSQL within its listener's poll interval (0.5 s),
        // usually milliseconds (NOTIFY). Polled for at most 5 s.
        #expect(try eventually { try server.tokenGeneration() != generation })
        let afterCreate = try server.tokenGeneration()
        #expect(try server.authenticate(token: token)?.id == id)
        try cli.touch(tokenID: id)
        #expect(try server.tokenGeneration() == afterCreate, "a touch is not a token change")
        try cli.revokeToken(id: id)
        #expect(try eventually { try server.tokenGeneration() != afterCreate })
        #expect(try server.authenticate(token: token) == nil)
        #expect(try server.listTokens().first?.lastUsed != nil, "the touch was recorded")
    }

    @Test(arguments: IndexBackend.allCases)
    func schemaSurvivesReopenAndKeepsTheSecret(_ backend: IndexBackend) throws {
        let fixture = try IndexUnderTest(backend)
        defer { fixture.remove() }
        let secret: [UInt8]
        let token: String
        do {
            let index = try fixture.open()
            secret = try index.secret()
            token = try index.createToken(user: "bob", permissions: [.manage]).token
        }
        #expect(secret.count == 32)
        let reopened = try fixture.open()
        #expect(try reopened.secret() == secret)
        #expect(try reopened.authenticate(token: token)?.user == "bob")
        let other = try IndexUnderTest(backend)
        defer { other.remove() }
        #expect(try other.open().secret() != secret)
    }

    @Test(arguments: IndexBackend.allCases)
    func batchesAreRecordedValidatedAndSearched(_ backend: IndexBackend) throws {
        let fixture = try IndexUnderTest(backend)
        defer { fixture.remove() }
        let index = try fixture.open(clock: { 1_700_000_000 })
        let a = Blob(size: 10), b = Blob(size: 20)
        let first = try index.createBatch(
            author: "alice", message: "Add clang 17 toolchain",
            files: [
                BatchFile(filename: "clang.tar.xz", digest: a.digest, size: 10, visibility: .internal),
                BatchFile(filename: "README", digest: b.digest, size: 20, visibility: .public)
            ])
        #expect(first.uploaded == "2023-11-14T22:13:20Z")
        #expect(first.files.map(\.filename) == ["README", "clang.tar.xz"])
        #expect(try index.batch(id: first.id) == first)
        #expect(try index.batch(id: 999) == nil)
        #expect(try index.file(a.digest)?.hasInstances == false)

        // Not stored yet: a new declaration replaces the old one. Stored: it must agree.
        try index.recordStored(a.digest, size: 10, visibility: .internal)
        #expect(throws: IndexError.sizeConflict(filename: "x", digest: a.digest, stored: 10, declared: 11)) {
            try index.createBatch(
                author: "bob", message: "m",
                files: [BatchFile(filename: "x", digest: a.digest, size: 11, visibility: .internal)])
        }
        #expect(
            throws: IndexError.visibilityConflict(filename: "x", digest: a.digest, stored: .internal, declared: .public)
        ) {
            try index.createBatch(
                author: "bob", message: "m",
                files: [BatchFile(filename: "x", digest: a.digest, size: 10, visibility: .public)])
        }
        #expect(throws: IndexError.self) { try index.createBatch(author: "bob", message: "", files: []) }
        #expect(throws: IndexError.self) {
            try index.createBatch(
                author: "bob", message: "m",
                files: [BatchFile(filename: "../x", digest: a.digest, size: 10, visibility: .internal)])
        }
        let second = try index.createBatch(
            author: "bob", message: "gcc rebuild",
            files: [
                BatchFile(filename: "gcc-clang-wrapper.sh", digest: a.digest, size: 10, visibility: .internal)
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
        #expect(throws: IndexError.notFound("file \(unknown.hex)")) { try index.setVisibility(unknown, to: .public) }
    }

    @Test(arguments: IndexBackend.allCases)
    func aSearchOfSeveralWordsFindsFilenamesHoldingTheWholeTextNewestFirst(_ backend: IndexBackend) throws {
        let fixture = try IndexUnderTest(backend)
        defer { fixture.remove() }
        let index = try fixture.open()
        // Each word of the long text is in two or three names; the whole text is in one. (PostgreSQL gives its
        // trigram index one word and must check the whole text on what that word finds.)
        let whole = Blob(size: 1), sameBuild = Blob(size: 2), otherTool = Blob(size: 3)
        for (name, blob) in [
            ("lld-18.0.0-android-arm-r311146.tar.xz", whole), ("lld-18.0.0-linux-r311146.tar.xz", sameBuild),
            ("clang-18.0.0-android-arm-r311146.zip", otherTool)
        ] {
            _ = try index.createBatch(
                author: "alice", message: "m",
                files: [
                    BatchFile(filename: name, digest: blob.digest, size: Int64(blob.bytes.count), visibility: .public)
                ])
        }
        #expect(try index.searchFiles("LLD-18.0.0-android-arm-r311146").map(\.digest) == [whole.digest])
        #expect(try index.searchFiles("18.0.0-android-arm").map(\.digest) == [otherTool.digest, whole.digest])
        #expect(try index.searchFiles("r311146.tar").map(\.digest) == [sameBuild.digest, whole.digest])
        #expect(try index.searchFiles("lld-18.0.0-macos").isEmpty)
    }

    @Test(arguments: IndexBackend.allCases)
    func aPageOfOneVisibilitySkipsTheOtherAndStillFills(_ backend: IndexBackend) throws {
        let fixture = try IndexUnderTest(backend)
        defer { fixture.remove() }
        let index = try fixture.open()
        // Three internal files for each public one, a batch each: the newest 5 public ones are the answer.
        var publicDigests: [Digest] = []
        for n in 0..<40 {
            let blob = Blob(size: 8)
            let visibility: Visibility = n % 4 == 3 ? .public : .internal
            if visibility == .public { publicDigests.append(blob.digest) }
            _ = try index.createBatch(
                author: "bob", message: "m",
                files: [
                    BatchFile(filename: "sdk-part-\(n).zip", digest: blob.digest, size: 8, visibility: visibility)
                ])
        }
        let found = try index.searchFiles("sdk-part", visibilities: [.public], limit: 5)
        #expect(found.map(\.digest) == Array(publicDigests.reversed().prefix(5)))
        #expect(
            try index.searchFiles("sdk-part", visibilities: [.internal], limit: 7).allSatisfy {
                $0.visibility == .internal
            })
        #expect(try index.searchFiles("sdk-part", visibilities: Set(Visibility.allCases), limit: 100).count == 40)
    }

    @Test(arguments: IndexBackend.allCases)
    func aSearchPageCarriesEachBatchWithItsOwnFilesInOrder(_ backend: IndexBackend) throws {
        let fixture = try IndexUnderTest(backend)
        defer { fixture.remove() }
        let index = try fixture.open()
        var made: [BatchRecord] = []
        for n in 0..<4 {
            let files = (0..<(n + 1) * 2).map { k in
                BatchFile(
                    filename: "tool-\(n)-part-\(k % 2 == 0 ? "B" : "a")\(k).tar.xz",
                    digest: Blob(size: 30 + n * 10 + k).digest,
                    size: Int64(30 + n * 10 + k), visibility: k % 3 == 0 ? .internal : .public)
            }
            made.append(try index.createBatch(author: "builder\(n % 2)", message: "toolchain \(n)", files: files))
        }
        let newestFirst = Array(made.reversed())
        // One query reads the files of a whole page: each batch must get its own, sorted as `batch(id:)` sorts them.
        #expect(try index.searchBatches("") == newestFirst)
        #expect(try index.searchBatches("toolchain") == newestFirst)
        #expect(try index.searchBatches("builder1") == [made[3], made[1]])
        #expect(try index.searchBatches("toolchain", before: made[2].id, limit: 50) == [made[1], made[0]])
        for batch in made { #expect(try index.batch(id: batch.id) == batch) }
        // Filename matches, newest first (a batch's files were added in filename order), with the records they name.
        let found = try index.searchFiles("part-a")
        let named = newestFirst.flatMap { batch in
            batch.files.filter { $0.filename.contains("part-a") }.sorted { $0.filename > $1.filename }
        }
        #expect(found.map(\.digest) == named.map(\.digest))
        #expect(found.count == 10)
        #expect(try index.searchFiles("part-a", visibilities: [.internal]).allSatisfy { $0.visibility == .internal })
    }

    @Test(arguments: IndexBackend.allCases)
    func aLargeBatchWithAwkwardNamesAndARepeatedDigestIsRecordedAsGiven(_ backend: IndexBackend) throws {
        let fixture = try IndexUnderTest(backend)
        defer { fixture.remove() }
        let index = try fixture.open()
        let stored = Blob(size: 5)
        try index.recordStored(stored.digest, size: 5, visibility: .public)
        let twice = Blob(size: 7)
        // PostgreSQL receives the names as one array literal: quotes, commas, braces and NULL must come back as
        // themselves (a backslash, which the literal escapes too, is no valid filename).
        let awkward = ["a \"quoted\" name", "comma,brace{}", "NULL", "sp\u{E4}ce \u{FC}.tar.xz", "'single'"]
        var files = awkward.enumerated().map { k, name in
            BatchFile(filename: name, digest: Blob(size: 10 + k).digest, size: Int64(10 + k), visibility: .public)
        }
        files += (0..<1000).map { k in
            BatchFile(
                filename: "file-\(k)", digest: Blob(size: 100 + k).digest, size: Int64(100 + k),
                visibility: k % 4 == 0 ? .internal : .public)
        }
        files += [
            BatchFile(filename: "stored.bin", digest: stored.digest, size: 5, visibility: .public),
            BatchFile(filename: "twice-a", digest: twice.digest, size: 7, visibility: .internal),
            BatchFile(filename: "twice-b", digest: twice.digest, size: 8, visibility: .public)
        ]
        let batch = try index.createBatch(author: "alice", message: "a big one", files: files.shuffled())
        #expect(batch.files == files.sorted { $0.filename < $1.filename })
        #expect(try index.batch(id: batch.id) == batch)

        let unknown = Blob(size: 3).digest
        let records = try index.files(files.map(\.digest) + [unknown])
        #expect(records.count == files.count - 1, "one digest is named twice; the unknown one has no record")
        #expect(records[unknown] == nil)
        #expect(records[stored.digest]?.hasInstances == true)
        let declaredTwice = try #require(records[twice.digest])
        #expect(
            declaredTwice.size == 8 && declaredTwice.visibility == .public && !declaredTwice.hasInstances,
            "named twice, the later name's declaration stands")
        for file in files where file.digest != twice.digest {
            #expect(records[file.digest]?.size == file.size && records[file.digest]?.visibility == file.visibility)
        }
        #expect(try index.files([]).isEmpty)
        for name in awkward where name.count >= 3 {
            #expect(
                try index.searchFiles(name).map(\.digest) == files.filter { $0.filename == name }.map(\.digest),
                "\(name)")
        }
        // Newest first: a batch's files are added in filename order.
        let nineties = files.filter { $0.filename.hasPrefix("file-99") }.sorted { $0.filename > $1.filename }
        #expect(try index.searchFiles("file-99").map(\.digest) == nineties.map(\.digest))
    }

    @Test(arguments: IndexBackend.allCases)
    func totalsFollowStoredFilesAndFsckPagesThroughThem(_ backend: IndexBackend) throws {
        let fixture = try IndexUnderTest(backend)
        defer { fixture.remove() }
        let index = try fixture.open()
        let blobs = (0..<5).map { _ in Blob(size: 7) }
        for (n, blob) in blobs.enumerated() {
            try index.recordStored(blob.digest, size: Int64(100 + n), visibility: n < 3 ? .public : .internal)
        }
        var totals = try index.visibilityTotals()
        #expect(totals[.public] == VisibilityTotals(files: 3, bytes: 303))
        #expect(totals[.internal] == VisibilityTotals(files: 2, bytes: 207))
        try index.setVisibility(blobs[0].digest, to: .internal)
        try index.markInstancesGone(blobs[4].digest)
        totals = try index.visibilityTotals()
        #expect(totals[.public] == VisibilityTotals(files: 2, bytes: 203))
        #expect(totals[.internal] == VisibilityTotals(files: 2, bytes: 203))
        // A re-recorded blob counts once.
        try index.recordStored(blobs[1].digest, size: 101, visibility: .public)
        #expect(try index.visibilityTotals()[.public] == VisibilityTotals(files: 2, bytes: 203))

        let sorted = blobs.prefix(4).map(\.digest.hex).sorted()
        let first = try index.storedFiles(after: "", limit: 3)
        #expect(first.map(\.digest.hex) == Array(sorted.prefix(3)))
        let rest = try index.storedFiles(after: first.last!.digest.hex, limit: 3)
        #expect(rest.map(\.digest.hex) == [sorted[3]])
    }

    @Test(arguments: IndexBackend.allCases)
    func badTokensAndUsersAreRefused(_ backend: IndexBackend) throws {
        let fixture = try IndexUnderTest(backend)
        defer { fixture.remove() }
        let index = try fixture.open()
        #expect(throws: IndexError.self) { try index.createToken(user: "", permissions: [.manage]) }
        #expect(throws: IndexError.self) { try index.createToken(user: "a\nb", permissions: [.manage]) }
        #expect(throws: IndexError.self) { try index.createToken(user: "a", permissions: []) }
        #expect(try index.listTokens().isEmpty)
        // Names are stored as given: quotes and non-ASCII survive a round trip.
        let (_, token) = try index.createToken(user: "O'Brien \"ü\"", permissions: [.uploadInternal])
        #expect(try index.authenticate(token: token)?.user == "O'Brien \"ü\"")
    }
}

/// What only the SQLite backend promises: its file format and its single-file layout.
@Suite struct SQLiteIndexTests {
    @Test func theTokenTextIsInNoFileOfTheDatabase() throws {
        let root = TempRoot()
        defer { root.remove() }
        let index = try SQLiteMetadataIndex(root: root.path)
        let (_, token) = try index.createToken(user: "alice", permissions: [.uploadPublic])
        for suffix in ["", "-wal"] {
            let bytes = readFile(index.path + suffix) ?? []
            #expect(!bytes.isEmpty || suffix == "-wal")
            #expect(!contains(bytes, Array(token.utf8)), "token text found in tooltool.sqlite\(suffix)")
        }
    }

    @Test func aNewerSchemaIsRefused() throws {
        let root = TempRoot()
        defer { root.remove() }
        do {
            let index = try SQLiteMetadataIndex(root: root.path)
            try index.withConnection { (db) throws(IndexError) in try db.execute("PRAGMA user_version = 99") }
        }
        #expect(
            throws: IndexError.corrupt("schema version 99 is newer than this server's \(SQLiteSchema.currentVersion)")
        ) {
            _ = try SQLiteMetadataIndex(root: root.path)
        }
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

/// What only the PostgreSQL backend promises: migrations under an advisory lock, and its schema check.
@Suite struct PostgresIndexTests {
    @Test func serversOpeningOneNewDatabaseAtOnceMigrateItOnce() throws {
        let uri = try PostgresCluster.freshDatabase()
        let opened = Mutex<[Result<[UInt8], IndexError>]>([])
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            let result = Result { () throws(IndexError) -> [UInt8] in
                try PostgresMetadataIndex(uri: uri, poolSize: 2).secret()
            }
            opened.withLock { $0.append(result) }
        }
        let secrets = try opened.withLock { try $0.map { try $0.get() } }
        #expect(secrets.count == 6)
        #expect(Set(secrets).count == 1, "one schema, one secret for every server")
        let cluster = try PostgresCluster.shared.get()
        let database = String(uri.split(separator: "/").last!)
        #expect(
            try cluster.psql("SELECT version FROM schema_version", database: database)
                .trimmingCharacters(in: .whitespacesAndNewlines) == String(PostgresSchema.currentVersion))
    }

    @Test func aNewerSchemaIsRefused() throws {
        let uri = try PostgresCluster.freshDatabase()
        _ = try PostgresMetadataIndex(uri: uri)
        let database = String(uri.split(separator: "/").last!)
        try PostgresCluster.shared.get().psql("UPDATE schema_version SET version = 99", database: database)
        #expect(
            throws: IndexError.corrupt("schema version 99 is newer than this server's \(PostgresSchema.currentVersion)")
        ) {
            _ = try PostgresMetadataIndex(uri: uri)
        }
    }

    @Test func anUnreachableDatabaseIsUnavailableNotAnInternalError() throws {
        let cluster = try PostgresCluster.shared.get()
        do {
            _ = try PostgresMetadataIndex(
                uri: "postgresql://postgres@127.0.0.1:\(cluster.port + 1)/x?connect_timeout=2")
            Issue.record("opening a database nobody serves succeeded")
        } catch {
            guard case .unavailable = error else { Issue.record("expected .unavailable, got \(error)"); return }
        }
    }

    @Test func theRarestWordOfASampleNarrowsALongSearch() {
        let names = (0..<1_000).map { "gcc-12.\($0 % 5).0-linux-x86_64-\(100_000 + $0).tar.xz" }
        let sample = FilenameSample(names: names, tableRows: 1_000_000, taken: 0)
        // "100042" is in one sampled name: about 1,000 of 1,000,000 rows, under the 2,000 limit.
        #expect(sample.narrowingWord(for: "GCC-12.2.0-linux-x86_64-100042") == "100042")
        // A word in no sampled name is the rarest.
        #expect(sample.narrowingWord(for: "gcc-12.2.0-win64") == "win64")
        // Every word common: the whole text goes to the index.
        #expect(sample.narrowingWord(for: "gcc-12.2.0-linux") == nil)
        // One word is the whole text already; words under 3 characters have no trigram of their own.
        #expect(sample.narrowingWord(for: "win64") == nil)
        #expect(sample.narrowingWord(for: "12.2") == nil)
        #expect(FilenameSample.words(of: "lld-18.0.0_Android+arm") == ["lld", "18", "0", "0", "Android", "arm"])
        #expect(
            sample.namesHolding("linux") == 1_000 && sample.namesHolding("100042") == 1
                && sample.namesHolding("10004") == 10)
        #expect(FilenameSample(names: [], tableRows: 0, taken: 0).narrowingWord(for: "a-b-cde") == nil)
    }

    @Test func theSampleChoosesHowAFilenameSearchRuns() {
        // 2,000 sampled names of a 1,000,000-row table: 1 in 2 holds "linux", 1 in 10 "gcc-12.", 1 in 2,000 "100042".
        let names = (0..<2_000).map {
            "\($0 % 2 == 0 ? "gcc" : "clang")-1\($0 % 10).\($0 % 3).0-\($0 % 2 == 0 ? "linux" : "win64")-\(100_000 + $0).tar.xz"
        }
        let sample = FilenameSample(names: names, tableRows: 1_000_000, taken: 0)
        // Half of the newest 20,000 rows match: walk them.
        #expect(sample.plan(for: "LINUX", fetch: 400) == .newest(window: FilenameSample.newestWindow))
        // 1 in 10: 2,000 in the newest 20,000, at least twice 1,000: walk; for 1,001 wanted: the index.
        #expect(sample.plan(for: "gcc-12.", fetch: 1_000) == .newest(window: FilenameSample.newestWindow))
        #expect(sample.plan(for: "gcc-12.", fetch: 1_001) == .trigrams)
        // Rare as a whole and its rarest word rare too: the word goes to the index.
        #expect(sample.plan(for: "gcc-12.2.0-linux-100042", fetch: 400) == .narrowed("100042"))
        // An empty sample knows nothing: the index, with the whole text.
        #expect(FilenameSample(names: [], tableRows: 0, taken: 0).plan(for: "gcc-12.", fetch: 400) == .trigrams)
        // A table smaller than the window: the prediction is for the rows there are.
        let small = FilenameSample(names: Array(names.prefix(100)), tableRows: 100, taken: 0)
        #expect(small.plan(for: "linux", fetch: 20) == .newest(window: FilenameSample.newestWindow))
        #expect(small.plan(for: "linux", fetch: 40) == .trigrams)
    }

    @Test func likePatternsEscapeWildcards() {
        #expect(PostgresMetadataIndex.likePattern("a%b_c\\d") == "%a\\%b\\_c\\\\d%")
    }
}
