import Shared

extension PostgresMetadataIndex {
    /// The batch's known files, locked (in digest order, so two batches naming the same files never deadlock).
    static let lockFilesStatement = PGStatement(
        name: "lock_files",
        sql: """
            SELECT \(fileColumns) FROM files WHERE digest = ANY($1::text[]) ORDER BY digest FOR UPDATE
            """)
    /// Declares files not stored yet (distinct digests): the newest declaration stands until a PUT verifies one.
    static let declareFilesStatement = PGStatement(
        name: "declare_files",
        sql: """
            INSERT INTO files(digest, algorithm, size, visibility, first_seen, has_instances)
            SELECT digest, algorithm, size, visibility, $5, false
            FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) AS declared(digest, algorithm, size, visibility)
            ON CONFLICT (digest) DO UPDATE SET size = excluded.size, visibility = excluded.visibility
            WHERE NOT files.has_instances
            """)
    static let insertBatchStatement = PGStatement(
        name: "insert_batch", sql: "INSERT INTO batches(author, message, uploaded) VALUES ($1, $2, $3) RETURNING id")
    /// The batch's files in the order given (their ids rise in filename order, which searches list by).
    static let insertBatchFilesStatement = PGStatement(
        name: "insert_batch_files",
        sql: """
            INSERT INTO batch_files(batch_id, filename, digest, size, visibility)
            SELECT $1, filename, digest, size, visibility
            FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[])
                WITH ORDINALITY AS named(filename, digest, size, visibility, position)
            ORDER BY position
            """)
    static let batchByID = PGStatement(
        name: "batch", sql: "SELECT id, author, message, uploaded FROM batches WHERE id = $1")
    static let batchFilesStatement = PGStatement(
        name: "batch_files",
        sql: """
            SELECT filename, digest, size, visibility FROM batch_files WHERE batch_id = $1 ORDER BY filename COLLATE "C"
            """)
    static let batchSearchStatement = PGStatement(
        name: "batch_search",
        sql: """
            SELECT id, author, message, uploaded FROM batches
            WHERE (author ILIKE $1 OR message ILIKE $1) AND id < $2 ORDER BY id DESC LIMIT $3
            """, planning: .perCall)
    /// The files of several batches at once (a search's page), in the order `batchFilesStatement` gives each.
    static let pageFilesStatement = PGStatement(
        name: "page_files",
        sql: """
            SELECT batch_id, filename, digest, size, visibility FROM batch_files WHERE batch_id = ANY($1::bigint[])
            ORDER BY batch_id, filename COLLATE "C"
            """)
    static let shortBatchSearchStatement = PGStatement(
        name: "short_batch_search",
        sql: """
            SELECT id, author, message, uploaded FROM
                (SELECT * FROM batches WHERE id < $1 ORDER BY id DESC LIMIT $2) recent
            WHERE author ILIKE $3 OR message ILIKE $3 ORDER BY id DESC LIMIT $4
            """)

    public func createBatch(author: String, message: String, files: [BatchFile]) throws(IndexError) -> BatchRecord {
        try BatchValidation.check(author: author, message: message, files: files)
        let now = nowText()
        let sorted = files.sorted { $0.filename < $1.filename }
        // Five statements whatever the batch's size (a round trip each), instead of three per file.
        return try withConnection { (db) throws(IndexError) -> BatchRecord in
            try db.transaction { () throws(IndexError) -> BatchRecord in
                let locked = try db.run(Self.lockFilesStatement, [.textArray(Array(Set(sorted.map(\.digest.hex))))])
                var known: [Digest: FileRecord] = [:]
                for row in 0..<locked.count {
                    let record = try Self.fileRecord(locked, row)
                    known[record.digest] = record
                }
                var declared: [Digest: BatchFile] = [:]
                for file in sorted {
                    if let stored = known[file.digest], stored.hasInstances {
                        guard stored.size == file.size else {
                            throw IndexError.sizeConflict(
                                filename: file.filename, digest: file.digest,
                                stored: stored.size, declared: file.size)
                        }
                        guard stored.visibility == file.visibility else {
                            throw IndexError.visibilityConflict(
                                filename: file.filename, digest: file.digest,
                                stored: stored.visibility, declared: file.visibility)
                        }
                    } else {
                        declared[file.digest] = file  // named twice: the later name's declaration stands, as one by one
                    }
                }
                if !declared.isEmpty {
                    let files = Array(declared.values)
                    try db.run(
                        Self.declareFilesStatement,
                        [
                            .textArray(files.map(\.digest.hex)),
                            .textArray(files.map(\.digest.algorithm.rawValue)),
                            .intArray(files.map(\.size)),
                            .textArray(files.map(\.visibility.rawValue)), .text(now)
                        ])
                }
                let id = try db.run(Self.insertBatchStatement, [.text(author), .text(message), .text(now)]).int64(0, 0)
                try db.run(
                    Self.insertBatchFilesStatement,
                    [
                        .int(id), .textArray(sorted.map(\.filename)),
                        .textArray(sorted.map(\.digest.hex)), .intArray(sorted.map(\.size)),
                        .textArray(sorted.map(\.visibility.rawValue))
                    ])
                return BatchRecord(id: id, author: author, message: message, uploaded: now, files: sorted)
            }
        }
    }

    public func batch(id: Int64) throws(IndexError) -> BatchRecord? {
        try withConnection { (db) throws(IndexError) -> BatchRecord? in
            let rows = try db.run(Self.batchByID, [.int(id)])
            return rows.count == 0 ? nil : try Self.batch(rows, 0, db)
        }
    }

    /// As `SQLiteMetadataIndex.searchBatches`: `ILIKE` on trigram indexes for 3+ characters, else within the newest
    /// `shortQueryWindow` batches below `before`.
    public func searchBatches(_ text: String, before: Int64?, limit: Int) throws(IndexError) -> [BatchRecord] {
        let below = before ?? Int64.max
        return try withConnection { (db) throws(IndexError) -> [BatchRecord] in
            let pattern = Self.likePattern(text)
            let rows =
                text.count >= 3
                ? try db.run(Self.batchSearchStatement, [.text(pattern), .int(below), .int(Int64(limit))])
                : try db.run(
                    Self.shortBatchSearchStatement,
                    [.int(below), .int(SQLiteMetadataIndex.shortQueryWindow), .text(pattern), .int(Int64(limit))])
            return try Self.batches(rows, db)
        }
    }

    /// The batches of `rows` (id, author, message, uploaded) with their files, read in one query.
    private static func batches(_ rows: PGResult, _ db: PGConnection) throws(IndexError) -> [BatchRecord] {
        guard rows.count > 0 else { return [] }
        let ids = (0..<rows.count).map { rows.int64($0, 0) }
        let fileRows = try db.run(pageFilesStatement, [.text("{" + ids.map(String.init).joined(separator: ",") + "}")])
        var files: [Int64: [BatchFile]] = [:]
        for row in 0..<fileRows.count {
            let id = fileRows.int64(row, 0)
            files[id, default: []].append(try batchFile(fileRows, row, batchID: id, column: 1))
        }
        return (0..<rows.count).map { row in
            BatchRecord(
                id: ids[row], author: rows.text(row, 1), message: rows.text(row, 2), uploaded: rows.text(row, 3),
                files: files[ids[row]] ?? [])
        }
    }

    /// A `filename, digest, size, visibility` row starting at `column`.
    private static func batchFile(
        _ rows: PGResult, _ row: Int, batchID: Int64, column: Int
    ) throws(IndexError) -> BatchFile {
        guard let digest = try? Digest(parsing: rows.text(row, column + 1)),
            let visibility = Visibility(rawValue: rows.text(row, column + 3))
        else {
            throw IndexError.corrupt(
                "batch \(batchID) file \(rows.text(row, column).debugDescription) has a bad digest or visibility")
        }
        return BatchFile(
            filename: rows.text(row, column), digest: digest, size: rows.int64(row, column + 2), visibility: visibility)
    }

    private static func batch(_ rows: PGResult, _ row: Int, _ db: PGConnection) throws(IndexError) -> BatchRecord {
        let id = rows.int64(row, 0)
        let fileRows = try db.run(batchFilesStatement, [.int(id)])
        let files = try fileRows.rows { (file) throws(IndexError) -> BatchFile in
            try batchFile(fileRows, file, batchID: id, column: 0)
        }
        return BatchRecord(
            id: id, author: rows.text(row, 1), message: rows.text(row, 2), uploaded: rows.text(row, 3),
            files: files)
    }
}
