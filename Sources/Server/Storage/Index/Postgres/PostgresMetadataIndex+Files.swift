import Shared

extension PostgresMetadataIndex {
    static let fileColumns = "digest, size, visibility, first_seen, has_instances"

    /// Reads a `fileColumns` row.
    static func fileRecord(_ rows: PGResult, _ row: Int) throws(IndexError) -> FileRecord {
        let text = rows.text(row, 0)
        guard let digest = try? Digest(parsing: text), let visibility = Visibility(rawValue: rows.text(row, 2)) else {
            throw IndexError.corrupt("files row \(text.prefix(16))... has a bad digest or visibility")
        }
        return FileRecord(
            digest: digest, size: rows.int64(row, 1), visibility: visibility, firstSeen: rows.text(row, 3),
            hasInstances: rows.bool(row, 4))
    }

    static let fileByDigest = PGStatement(name: "file", sql: "SELECT \(fileColumns) FROM files WHERE digest = $1")
    static let filesByDigestStatement = PGStatement(
        name: "files", sql: "SELECT \(fileColumns) FROM files WHERE digest = ANY($1::text[])")
    static let recordStoredStatement = PGStatement(
        name: "record_stored",
        sql: """
            INSERT INTO files(digest, algorithm, size, visibility, first_seen, has_instances) VALUES ($1, $2, $3, $4, $5, true)
            ON CONFLICT (digest) DO UPDATE SET size = excluded.size, visibility = excluded.visibility, has_instances = true
            RETURNING \(fileColumns)
            """)
    static let setVisibilityStatement = PGStatement(
        name: "set_visibility", sql: "UPDATE files SET visibility = $1 WHERE digest = $2 RETURNING \(fileColumns)")
    static let markGoneStatement = PGStatement(
        name: "mark_gone", sql: "UPDATE files SET has_instances = false WHERE digest = $1 RETURNING \(fileColumns)")
    static let mentionsStatement = PGStatement(
        name: "mentions",
        sql: """
            SELECT b.id, bf.filename, b.author, b.message, b.uploaded
            FROM batch_files bf JOIN batches b ON b.id = bf.batch_id
            WHERE bf.digest = $1 ORDER BY b.id DESC, bf.filename
            """)
    static let digestPrefixStatement = PGStatement(
        name: "digest_prefix",
        sql: """
            SELECT \(fileColumns) FROM files WHERE digest >= $1 AND digest < $2 ORDER BY digest LIMIT $3
            """)
    /// The digests of the newest batch files whose filename matches $1, newest first, through the trigram index:
    /// the order is written `id + 0` so that PostgreSQL cannot choose to walk the primary key instead (the search
    /// chose this plan from its sample, which knows better than PostgreSQL's estimate; see `FilenameSample`). The
    /// file records are read after, for the page alone, not for every match fetched.
    static let trigramFilenameMatchesStatement = PGStatement(
        name: "trigram_filename_matches",
        sql: """
            SELECT digest FROM batch_files WHERE filename ILIKE $1 ORDER BY id + 0 DESC LIMIT $2
            """, planning: .perCall)
    /// As `trigramFilenameMatchesStatement`, the trigram index given only the text's rarest word ($1), and the whole
    /// text ($2) checked on the rows it finds, in an expression the index cannot take.
    static let narrowedFilenameMatchesStatement = PGStatement(
        name: "narrowed_filename_matches",
        sql: """
            SELECT digest FROM batch_files WHERE filename ILIKE $1 AND (filename || '') ILIKE $2 ORDER BY id + 0 DESC LIMIT $3
            """, planning: .perCall)
    /// The newest $1 batch files walked newest-first: a common text, or one of 1 or 2 characters (no trigram).
    static let newestFilenameMatchesStatement = PGStatement(
        name: "newest_filename_matches",
        sql: """
            SELECT digest FROM (SELECT id, filename, digest FROM batch_files ORDER BY id DESC LIMIT $1) recent
            WHERE filename ILIKE $2 ORDER BY id DESC LIMIT $3
            """)
    static let tableRowsStatement = PGStatement(
        name: "table_rows",
        sql: "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'batch_files'::regclass")
    static let newestFilenamesStatement = PGStatement(
        name: "newest_filenames", sql: "SELECT filename FROM batch_files ORDER BY id DESC LIMIT $1")
    /// Whole pages picked at random (reads about $1 % of the table), at most $2 names.
    static let sampledFilenamesStatement = PGStatement(
        name: "sampled_filenames", sql: "SELECT filename FROM batch_files TABLESAMPLE SYSTEM ($1::real) LIMIT $2",
        planning: .perCall)
    static let storedFilesStatement = PGStatement(
        name: "stored_files",
        sql: """
            SELECT \(fileColumns) FROM files WHERE has_instances AND digest > $1 ORDER BY digest LIMIT $2
            """)
    static let totalsStatement = PGStatement(name: "totals", sql: "SELECT visibility, files, bytes FROM file_totals")

    @discardableResult
    public func recordStored(_ digest: Digest, size: Int64, visibility: Visibility) throws(IndexError) -> FileRecord {
        let now = nowText()
        return try withConnection { (db) throws(IndexError) -> FileRecord in
            let rows = try db.run(
                Self.recordStoredStatement,
                [
                    .text(digest.hex), .text(digest.algorithm.rawValue), .int(size),
                    .text(visibility.rawValue), .text(now)
                ])
            return try Self.fileRecord(rows, 0)
        }
    }

    @discardableResult
    public func setVisibility(_ digest: Digest, to visibility: Visibility) throws(IndexError) -> FileRecord {
        try updated(Self.setVisibilityStatement, [.text(visibility.rawValue), .text(digest.hex)], digest)
    }

    @discardableResult
    public func markInstancesGone(_ digest: Digest) throws(IndexError) -> FileRecord {
        try updated(Self.markGoneStatement, [.text(digest.hex)], digest)
    }

    private func updated(
        _ statement: PGStatement, _ parameters: [PGValue], _ digest: Digest
    ) throws(IndexError) -> FileRecord {
        try withConnection { (db) throws(IndexError) -> FileRecord in
            let rows = try db.run(statement, parameters)
            guard rows.count == 1 else { throw IndexError.notFound("file \(digest.hex)") }
            return try Self.fileRecord(rows, 0)
        }
    }

    public func file(_ digest: Digest) throws(IndexError) -> FileRecord? {
        try withConnection { (db) throws(IndexError) -> FileRecord? in try Self.file(digest, db) }
    }

    static func file(_ digest: Digest, _ db: PGConnection) throws(IndexError) -> FileRecord? {
        let rows = try db.run(fileByDigest, [.text(digest.hex)])
        return rows.count == 0 ? nil : try fileRecord(rows, 0)
    }

    /// One query for all of them.
    public func files(_ digests: [Digest]) throws(IndexError) -> [Digest: FileRecord] {
        guard !digests.isEmpty else { return [:] }
        return try withConnection { (db) throws(IndexError) -> [Digest: FileRecord] in
            let rows = try db.run(Self.filesByDigestStatement, [.textArray(digests.map(\.hex))])
            var records: [Digest: FileRecord] = [:]
            for row in 0..<rows.count {
                let record = try Self.fileRecord(rows, row)
                records[record.digest] = record
            }
            return records
        }
    }

    public func fileDetails(_ digest: Digest) throws(IndexError) -> FileDetails? {
        try withConnection { (db) throws(IndexError) -> FileDetails? in
            guard let file = try Self.file(digest, db) else { return nil }
            let rows = try db.run(Self.mentionsStatement, [.text(digest.hex)])
            let mentions = try rows.rows { (row) throws(IndexError) -> FileMention in
                FileMention(
                    batchID: rows.int64(row, 0), filename: rows.text(row, 1), author: rows.text(row, 2),
                    message: rows.text(row, 3), uploaded: rows.text(row, 4))
            }
            return FileDetails(file: file, batches: mentions)
        }
    }

    /// As `SQLiteMetadataIndex.searchFiles`: a digest-prefix range scan of the primary key, then filenames by
    /// `ILIKE`, run as `FilenameSample.plan(for:fetch:)` says (3+ characters) or within the newest
    /// `shortQueryWindow` batch files; then the records of the page's files.
    public func searchFiles(
        _ text: String, visibilities: Set<Visibility>, limit: Int
    ) throws(IndexError) -> [FileRecord] {
        let sample = text.count >= 3 ? try filenameSample() : nil
        return try withConnection { (db) throws(IndexError) -> [FileRecord] in
            var digestMatches: [FileRecord] = []
            if FileSearch.isDigestPrefix(text) {
                let rows = try db.run(Self.digestPrefixStatement, [.text(text), .text(text + "g"), .int(Int64(limit))])
                digestMatches = try rows.rows { (row) throws(IndexError) in try Self.fileRecord(rows, row) }
            }
            let fetch = FileSearch.filenameFetchLimit(limit)
            let pattern = Self.likePattern(text)
            let rows: PGResult
            switch sample?.plan(for: text, fetch: Int(fetch)) {
            case nil:
                rows = try db.run(
                    Self.newestFilenameMatchesStatement,
                    [.int(SQLiteMetadataIndex.shortQueryWindow), .text(pattern), .int(fetch)])
            case .newest(let window)?:
                let newest = try db.run(
                    Self.newestFilenameMatchesStatement, [.int(window), .text(pattern), .int(fetch)])
                rows =
                    newest.count == Int(fetch)
                    ? newest : try db.run(Self.trigramFilenameMatchesStatement, [.text(pattern), .int(fetch)])
            case .narrowed(let word)?:
                rows = try db.run(
                    Self.narrowedFilenameMatchesStatement,
                    [.text(Self.likePattern(word)), .text(pattern), .int(fetch)])
            case .trigrams?:
                rows = try db.run(Self.trigramFilenameMatchesStatement, [.text(pattern), .int(fetch)])
            }
            let matched = try rows.rows { (row) throws(IndexError) -> Digest in
                guard let digest = try? Digest(parsing: rows.text(row, 0)) else {
                    throw IndexError.corrupt("batch_files row has a bad digest \(rows.text(row, 0).prefix(16))...")
                }
                return digest
            }
            return try FileSearch.page(
                digestMatches, filenameMatches: matched, visibilities: visibilities, limit: limit
            ) {
                (digests) throws(IndexError) in
                let rows = try db.run(Self.filesByDigestStatement, [.textArray(digests.map(\.hex))])
                return try rows.rows { (row) throws(IndexError) in try Self.fileRecord(rows, row) }
            }
        }
    }

    /// The current `FilenameSample`, taken anew when older than its lifetime.
    func filenameSample() throws(IndexError) -> FilenameSample {
        let now = clock()
        if let sample = cached.withLock({ $0.filenameSample }), now - sample.taken < FilenameSample.lifetime {
            return sample
        }
        let sample = try withConnection { (db) throws(IndexError) -> FilenameSample in
            let tableRows = try db.run(Self.tableRowsStatement)
            let estimate = tableRows.count == 0 ? 0 : Double(tableRows.int64(0, 0))
            let size = Int64(FilenameSample.size)
            // A table that may be small is read from its newest end (the whole of it when it is small); a large one
            // is sampled by pages, a little more than needed so that the sample is full.
            let rows =
                estimate < Double(size) * 4
                ? try db.run(Self.newestFilenamesStatement, [.int(size)])
                : try db.run(
                    Self.sampledFilenamesStatement,
                    [.text(String(min(100, 120 * Double(size) / estimate))), .int(size)])
            let names = try rows.rows { (row) throws(IndexError) in rows.text(row, 0).lowercased() }
            return FilenameSample(names: names, tableRows: estimate, taken: now)
        }
        cached.withLock { $0.filenameSample = sample }
        return sample
    }

    public func storedFiles(after: String, limit: Int) throws(IndexError) -> [FileRecord] {
        try withConnection { (db) throws(IndexError) -> [FileRecord] in
            let rows = try db.run(Self.storedFilesStatement, [.text(after), .int(Int64(limit))])
            return try rows.rows { (row) throws(IndexError) in try Self.fileRecord(rows, row) }
        }
    }

    public func visibilityTotals() throws(IndexError) -> [Visibility: VisibilityTotals] {
        try withConnection { (db) throws(IndexError) -> [Visibility: VisibilityTotals] in
            let rows = try db.run(Self.totalsStatement)
            var totals: [Visibility: VisibilityTotals] = [:]
            for row in 0..<rows.count {
                if let visibility = Visibility(rawValue: rows.text(row, 0)) {
                    totals[visibility] = VisibilityTotals(files: rows.int64(row, 1), bytes: rows.int64(row, 2))
                }
            }
            return totals
        }
    }

    /// `%text%` for `ILIKE`, with `\`, `%` and `_` escaped so user text is never a pattern.
    static func likePattern(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "\\" || character == "%" || character == "_" { escaped.append("\\") }
            escaped.append(character)
        }
        return "%" + escaped + "%"
    }

    /// Prefixes each comma-separated column with a table alias.
    static func prefixed(_ alias: String, _ columns: String) -> String {
        columns.split(separator: ",").map { alias + $0.trimmingPrefix(" ") }.joined(separator: ", ")
    }
}
