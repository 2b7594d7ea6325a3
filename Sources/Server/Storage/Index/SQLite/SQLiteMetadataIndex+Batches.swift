import Shared

extension SQLiteMetadataIndex {
    /// Records an upload batch by `author`. Validates it first (typed errors the app answers with 400): a non-empty
    /// message, at least one file, bare distinct filenames, and for files already stored the same size and
    /// visibility. Files not yet known get a record without instances (their PUT will follow).
    public func createBatch(author: String, message: String, files: [BatchFile]) throws(IndexError) -> BatchRecord {
        try BatchValidation.check(author: author, message: message, files: files)
        let now = nowText()
        let sorted = files.sorted { $0.filename < $1.filename }
        return try withConnection { (db) throws(IndexError) -> BatchRecord in
            try db.transaction { () throws(IndexError) -> BatchRecord in
                for file in sorted {
                    if let stored = try Self.file(file.digest, db), stored.hasInstances {
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
                        // Unknown, or known but not stored: the newest declaration stands until a PUT verifies it.
                        try db.run(
                            """
                            INSERT INTO files(digest, algorithm, size, visibility, first_seen, has_instances)
                            VALUES (?, ?, ?, ?, ?, 0)
                            ON CONFLICT(digest) DO UPDATE SET size = excluded.size, visibility = excluded.visibility
                            """,
                            [
                                .text(file.digest.hex), .text(file.digest.algorithm.rawValue), .int(file.size),
                                .text(file.visibility.rawValue), .text(now)
                            ])
                    }
                }
                try db.run(
                    "INSERT INTO batches(author, message, uploaded) VALUES (?, ?, ?)",
                    [.text(author), .text(message), .text(now)])
                let id = db.lastInsertRowID
                for file in sorted {
                    try db.run(
                        "INSERT INTO batch_files(batch_id, filename, digest, size, visibility) VALUES (?, ?, ?, ?, ?)",
                        [
                            .int(id), .text(file.filename), .text(file.digest.hex), .int(file.size),
                            .text(file.visibility.rawValue)
                        ])
                }
                return BatchRecord(id: id, author: author, message: message, uploaded: now, files: sorted)
            }
        }
    }

    /// One batch by id, or nil.
    public func batch(id: Int64) throws(IndexError) -> BatchRecord? {
        try withConnection { (db) throws(IndexError) -> BatchRecord? in
            try db.query("SELECT id, author, message, uploaded FROM batches WHERE id = ?", [.int(id)]) {
                ($0.int64(0), $0.text(1), $0.text(2), $0.text(3))
            }.first.map { (row) throws(IndexError) -> BatchRecord in try Self.batch(row, db) }
        }
    }

    /// Batches whose author or message contains `text` (case-insensitive), newest first, at most `limit`, only
    /// those with an id below `before` when it is given (the next page starts below the last id of this one).
    /// Empty text lists the newest batches.
    ///
    /// Uses a trigram full-text index for 3+ characters; shorter text looks at the newest
    /// `SQLiteMetadataIndex.shortQueryWindow` batches (below `before`) only, so no query scans a whole table.
    public func searchBatches(_ text: String, before: Int64?, limit: Int) throws(IndexError) -> [BatchRecord] {
        let below = before ?? Int64.max
        return try withConnection { (db) throws(IndexError) -> [BatchRecord] in
            let rows: [(Int64, String, String, String)]
            if text.count >= 3 {
                rows = try db.query(
                    """
                    SELECT b.id, b.author, b.message, b.uploaded FROM
                        (SELECT rowid FROM batches_fts WHERE batches_fts MATCH ? AND rowid < ? ORDER BY rowid DESC LIMIT ?) m
                    JOIN batches b ON b.id = m.rowid ORDER BY b.id DESC
                    """, [.text(Self.ftsPhrase(text)), .int(below), .int(Int64(limit))]
                ) { ($0.int64(0), $0.text(1), $0.text(2), $0.text(3)) }
            } else {
                rows = try db.query(
                    """
                    SELECT id, author, message, uploaded FROM
                        (SELECT * FROM batches WHERE id < ? ORDER BY id DESC LIMIT ?)
                    WHERE instr(lower(author), lower(?)) > 0 OR instr(lower(message), lower(?)) > 0
                    ORDER BY id DESC LIMIT ?
                    """, [.int(below), .int(Self.shortQueryWindow), .text(text), .text(text), .int(Int64(limit))]
                ) {
                    ($0.int64(0), $0.text(1), $0.text(2), $0.text(3))
                }
            }
            var result: [BatchRecord] = []
            for row in rows { result.append(try Self.batch(row, db)) }
            return result
        }
    }

    private static func batch(
        _ row: (Int64, String, String, String), _ db: SQLiteConnection
    ) throws(IndexError) -> BatchRecord {
        let files = try db.query(
            "SELECT filename, digest, size, visibility FROM batch_files WHERE batch_id = ? ORDER BY filename",
            [.int(row.0)]
        ) { (file) throws(IndexError) -> BatchFile in
            guard let digest = try? Digest(parsing: file.text(1)), let visibility = Visibility(rawValue: file.text(3))
            else {
                throw IndexError.corrupt(
                    "batch \(row.0) file \(file.text(0).debugDescription) has a bad digest or visibility")
            }
            return BatchFile(filename: file.text(0), digest: digest, size: file.int64(2), visibility: visibility)
        }
        return BatchRecord(id: row.0, author: row.1, message: row.2, uploaded: row.3, files: files)
    }
}
