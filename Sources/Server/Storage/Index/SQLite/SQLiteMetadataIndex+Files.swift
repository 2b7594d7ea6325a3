import Shared

extension SQLiteMetadataIndex {
    static let fileColumns = "digest, size, visibility, first_seen, has_instances"

    /// Reads a `fileColumns` row starting at column 0.
    static func fileRecord(_ row: SQLiteStatement) throws(IndexError) -> FileRecord {
        let text = row.text(0)
        guard let digest = try? Digest(parsing: text), let visibility = Visibility(rawValue: row.text(2)) else {
            throw IndexError.corrupt("files row \(text.prefix(16))... has a bad digest or visibility")
        }
        return FileRecord(
            digest: digest, size: row.int64(1), visibility: visibility, firstSeen: row.text(3),
            hasInstances: row.int64(4) != 0)
    }

    /// Records a verified, stored blob (after a PUT commit or an fsck find): size and visibility as stored win over
    /// whatever a batch declared. Returns the record.
    ///
    /// Uploads finishing together share one transaction (`storedGroup`): with `synchronous = FULL` each commit waits
    /// for a sync of the WAL, so eight uploads committing one by one wait for eight syncs in a row, and in a group
    /// for one. A lone upload commits at once, as before.
    @discardableResult
    public func recordStored(_ digest: Digest, size: Int64, visibility: Visibility) throws(IndexError) -> FileRecord {
        let ticket = storedGroup.submit(StoredFile(digest: digest, size: size, visibility: visibility, at: nowText()))
        return try withConnection { (db) throws(IndexError) -> FileRecord in
            try storedGroup.complete(ticket) { (files) throws(IndexError) -> [FileRecord] in
                try db.transaction { () throws(IndexError) -> [FileRecord] in
                    var records: [FileRecord] = []
                    records.reserveCapacity(files.count)
                    for file in files { records.append(try Self.recordStored(file, db)) }
                    return records
                }
            }
        }
    }

    /// One stored blob waiting for `recordStored`'s shared transaction.
    struct StoredFile: Sendable {
        let digest: Digest
        let size: Int64
        let visibility: Visibility
        /// When it was stored, as the index writes times.
        let at: String
    }

    /// Upserts one stored blob's row and reads it back; inside the caller's transaction.
    private static func recordStored(_ file: StoredFile, _ db: SQLiteConnection) throws(IndexError) -> FileRecord {
        try db.run(
            """
            INSERT INTO files(digest, algorithm, size, visibility, first_seen, has_instances) VALUES (?, ?, ?, ?, ?, 1)
            ON CONFLICT(digest) DO UPDATE SET size = excluded.size, visibility = excluded.visibility,
                has_instances = 1
            """,
            [
                .text(file.digest.hex), .text(file.digest.algorithm.rawValue), .int(file.size),
                .text(file.visibility.rawValue), .text(file.at)
            ])
        guard let record = try Self.file(file.digest, db) else { throw IndexError.notFound("file \(file.digest.hex)") }
        return record
    }

    /// Sets a known file's visibility (after the blob store moved it). Throws `.notFound` for an unknown digest.
    @discardableResult
    public func setVisibility(_ digest: Digest, to visibility: Visibility) throws(IndexError) -> FileRecord {
        try withConnection { (db) throws(IndexError) -> FileRecord in
            try db.run(
                "UPDATE files SET visibility = ? WHERE digest = ?", [.text(visibility.rawValue), .text(digest.hex)])
            guard let record = try Self.file(digest, db) else { throw IndexError.notFound("file \(digest.hex)") }
            return record
        }
    }

    /// Marks a file's blob as gone (deleted), keeping its history. Throws `.notFound` for an unknown digest.
    @discardableResult
    public func markInstancesGone(_ digest: Digest) throws(IndexError) -> FileRecord {
        try withConnection { (db) throws(IndexError) -> FileRecord in
            try db.run("UPDATE files SET has_instances = 0 WHERE digest = ?", [.text(digest.hex)])
            guard let record = try Self.file(digest, db) else { throw IndexError.notFound("file \(digest.hex)") }
            return record
        }
    }

    /// The record of one file, or nil.
    public func file(_ digest: Digest) throws(IndexError) -> FileRecord? {
        try withConnection { (db) throws(IndexError) -> FileRecord? in try Self.file(digest, db) }
    }

    /// The records of those of `digests` the index knows: one indexed read each, in process, on one connection.
    public func files(_ digests: [Digest]) throws(IndexError) -> [Digest: FileRecord] {
        try withConnection { (db) throws(IndexError) -> [Digest: FileRecord] in
            var records: [Digest: FileRecord] = [:]
            for digest in digests {
                if let record = try Self.file(digest, db) { records[digest] = record }
            }
            return records
        }
    }

    /// The record of one file with every batch that named it (newest first), or nil.
    public func fileDetails(_ digest: Digest) throws(IndexError) -> FileDetails? {
        try withConnection { (db) throws(IndexError) -> FileDetails? in
            guard let file = try Self.file(digest, db) else { return nil }
            let mentions = try db.query(
                """
                SELECT b.id, bf.filename, b.author, b.message, b.uploaded
                FROM batch_files bf JOIN batches b ON b.id = bf.batch_id
                WHERE bf.digest = ? ORDER BY b.id DESC, bf.filename
                """, [.text(digest.hex)]
            ) {
                FileMention(
                    batchID: $0.int64(0), filename: $0.text(1), author: $0.text(2), message: $0.text(3),
                    uploaded: $0.text(4))
            }
            return FileDetails(file: file, batches: mentions)
        }
    }

    /// Files whose digest starts with `text` (when it is lowercase hex) or that a batch named with a filename
    /// containing `text` (case-insensitive), most recently named first, at most `limit`, only of `visibilities`.
    ///
    /// Filename search uses a trigram full-text index for 3+ characters; shorter text looks at the newest
    /// `SQLiteMetadataIndex.shortQueryWindow` batch files only, so no query scans a whole table.
    public func searchFiles(
        _ text: String, visibilities: Set<Visibility>, limit: Int
    ) throws(IndexError) -> [FileRecord] {
        try withConnection { (db) throws(IndexError) -> [FileRecord] in
            var digestMatches: [FileRecord] = []
            if FileSearch.isDigestPrefix(text) {
                digestMatches = try db.query(
                    "SELECT \(Self.fileColumns) FROM files WHERE digest >= ? AND digest < ? ORDER BY digest LIMIT ?",
                    [.text(text), .text(text + "g"), .int(Int64(limit))], Self.fileRecord)
            }
            let fetch = FileSearch.filenameFetchLimit(limit)
            let filenameMatches: [FileRecord]
            if text.count >= 3 {
                filenameMatches = try db.query(
                    """
                    SELECT \(Self.prefixed("f.", Self.fileColumns)) FROM batch_files_fts
                    JOIN batch_files bf ON bf.rowid = batch_files_fts.rowid JOIN files f ON f.digest = bf.digest
                    WHERE batch_files_fts MATCH ? ORDER BY batch_files_fts.rowid DESC LIMIT ?
                    """, [.text(Self.ftsPhrase(text)), .int(fetch)], Self.fileRecord)
            } else {
                filenameMatches = try db.query(
                    """
                    SELECT \(Self.prefixed("f.", Self.fileColumns)) FROM
                        (SELECT rowid, filename, digest FROM batch_files ORDER BY rowid DESC LIMIT ?) bf
                    JOIN files f ON f.digest = bf.digest
                    WHERE instr(lower(bf.filename), lower(?)) > 0 ORDER BY bf.rowid DESC LIMIT ?
                    """, [.int(Self.shortQueryWindow), .text(text), .int(fetch)], Self.fileRecord)
            }
            return FileSearch.page(digestMatches, filenameMatches, visibilities: visibilities, limit: limit)
        }
    }

    /// Up to `limit` records, in digest order after `after`, that say their blob is stored. fsck pages through them
    /// to find records whose blob has gone from both folders.
    public func storedFiles(after: String, limit: Int) throws(IndexError) -> [FileRecord] {
        try withConnection { (db) throws(IndexError) -> [FileRecord] in
            try db.query(
                "SELECT \(Self.fileColumns) FROM files WHERE has_instances = 1 AND digest > ? ORDER BY digest LIMIT ?",
                [.text(after), .int(Int64(limit))], Self.fileRecord)
        }
    }

    /// How many of the newest rows a search shorter than 3 characters looks at.
    public static let shortQueryWindow: Int64 = 10_000

    /// `text` as one FTS5 phrase: quoted, inner quotes doubled, so user text is never parsed as query syntax.
    static func ftsPhrase(_ text: String) -> String {
        "\"" + text.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }

    /// Prefixes each comma-separated column with a table alias.
    static func prefixed(_ alias: String, _ columns: String) -> String {
        columns.split(separator: ",").map { alias + $0.trimmingPrefix(" ") }.joined(separator: ", ")
    }

    static func file(_ digest: Digest, _ db: SQLiteConnection) throws(IndexError) -> FileRecord? {
        try db.query("SELECT \(fileColumns) FROM files WHERE digest = ?", [.text(digest.hex)], fileRecord).first
    }
}
