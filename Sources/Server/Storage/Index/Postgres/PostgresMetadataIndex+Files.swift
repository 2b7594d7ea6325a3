import Shared

extension PostgresMetadataIndex {
    static let fileColumns = "digest, size, visibility, first_seen, has_instances"

    /// Reads a `fileColumns` row.
    static func fileRecord(_ rows: PGResult, _ row: Int) throws(IndexError) -> FileRecord {
        let text = rows.text(row, 0)
        guard let digest = try? Digest(parsing: text), let visibility = Visibility(rawValue: rows.text(row, 2)) else {
            throw IndexError.corrupt("files row \(text.prefix(16))... has a bad digest or visibility")
        }
        return FileRecord(digest: digest, size: rows.int64(row, 1), visibility: visibility, firstSeen: rows.text(row, 3),
                          hasInstances: rows.bool(row, 4))
    }

    static let fileByDigest = PGStatement(name: "file", sql: "SELECT \(fileColumns) FROM files WHERE digest = $1")
    static let filesByDigestStatement = PGStatement(
        name: "files", sql: "SELECT \(fileColumns) FROM files WHERE digest = ANY($1::text[])")
    static let recordStoredStatement = PGStatement(name: "record_stored", sql: """
        INSERT INTO files(digest, algorithm, size, visibility, first_seen, has_instances) VALUES ($1, $2, $3, $4, $5, true)
        ON CONFLICT (digest) DO UPDATE SET size = excluded.size, visibility = excluded.visibility, has_instances = true
        RETURNING \(fileColumns)
        """)
    static let setVisibilityStatement = PGStatement(
        name: "set_visibility", sql: "UPDATE files SET visibility = $1 WHERE digest = $2 RETURNING \(fileColumns)")
    static let markGoneStatement = PGStatement(
        name: "mark_gone", sql: "UPDATE files SET has_instances = false WHERE digest = $1 RETURNING \(fileColumns)")
    static let mentionsStatement = PGStatement(name: "mentions", sql: """
        SELECT b.id, bf.filename, b.author, b.message, b.uploaded
        FROM batch_files bf JOIN batches b ON b.id = bf.batch_id
        WHERE bf.digest = $1 ORDER BY b.id DESC, bf.filename
        """)
    static let digestPrefixStatement = PGStatement(name: "digest_prefix", sql: """
        SELECT \(fileColumns) FROM files WHERE digest >= $1 AND digest < $2 ORDER BY digest LIMIT $3
        """)
    /// The newest matches first, then their file records: the join reads `files` for the page only, not for
    /// every batch file that matched.
    static let filenameSearchStatement = PGStatement(name: "filename_search", sql: """
        SELECT \(prefixed("f.", fileColumns)) FROM
            (SELECT id, digest FROM batch_files WHERE filename ILIKE $1 ORDER BY id DESC LIMIT $2) bf
        JOIN files f ON f.digest = bf.digest ORDER BY bf.id DESC
        """, planning: .perCall)
    static let shortFilenameSearchStatement = PGStatement(name: "short_filename_search", sql: """
        SELECT \(prefixed("f.", fileColumns)) FROM
            (SELECT id, digest FROM
                (SELECT id, filename, digest FROM batch_files ORDER BY id DESC LIMIT $1) recent
             WHERE filename ILIKE $2 ORDER BY id DESC LIMIT $3) bf
        JOIN files f ON f.digest = bf.digest ORDER BY bf.id DESC
        """)
    static let storedFilesStatement = PGStatement(name: "stored_files", sql: """
        SELECT \(fileColumns) FROM files WHERE has_instances AND digest > $1 ORDER BY digest LIMIT $2
        """)
    static let totalsStatement = PGStatement(name: "totals", sql: "SELECT visibility, files, bytes FROM file_totals")

    @discardableResult
    public func recordStored(_ digest: Digest, size: Int64, visibility: Visibility) throws(IndexError) -> FileRecord {
        let now = nowText()
        return try withConnection { (db) throws(IndexError) -> FileRecord in
            let rows = try db.run(Self.recordStoredStatement, [.text(digest.hex), .text(digest.algorithm.rawValue), .int(size),
                                                               .text(visibility.rawValue), .text(now)])
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

    private func updated(_ statement: PGStatement, _ parameters: [PGValue], _ digest: Digest) throws(IndexError) -> FileRecord {
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
                FileMention(batchID: rows.int64(row, 0), filename: rows.text(row, 1), author: rows.text(row, 2),
                            message: rows.text(row, 3), uploaded: rows.text(row, 4))
            }
            return FileDetails(file: file, batches: mentions)
        }
    }

    /// As `SQLiteMetadataIndex.searchFiles`: a digest-prefix range scan of the primary key, then filenames by
    /// `ILIKE` on a trigram index (3+ characters) or within the newest `shortQueryWindow` batch files.
    public func searchFiles(_ text: String, visibilities: Set<Visibility>, limit: Int) throws(IndexError) -> [FileRecord] {
        try withConnection { (db) throws(IndexError) -> [FileRecord] in
            var digestMatches: [FileRecord] = []
            if FileSearch.isDigestPrefix(text) {
                let rows = try db.run(Self.digestPrefixStatement, [.text(text), .text(text + "g"), .int(Int64(limit))])
                digestMatches = try rows.rows { (row) throws(IndexError) in try Self.fileRecord(rows, row) }
            }
            let fetch = FileSearch.filenameFetchLimit(limit)
            let rows = text.count >= 3
                ? try db.run(Self.filenameSearchStatement, [.text(Self.likePattern(text)), .int(fetch)])
                : try db.run(Self.shortFilenameSearchStatement,
                             [.int(SQLiteMetadataIndex.shortQueryWindow), .text(Self.likePattern(text)), .int(fetch)])
            let filenameMatches = try rows.rows { (row) throws(IndexError) in try Self.fileRecord(rows, row) }
            return FileSearch.page(digestMatches, filenameMatches, visibilities: visibilities, limit: limit)
        }
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
