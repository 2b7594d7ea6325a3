import Shared

/// The SQLite index's schema and its migrations, versioned with `PRAGMA user_version`.
enum SQLiteSchema {
    /// The version this code writes.
    static let currentVersion: Int64 = 1

    /// Brings the database to `currentVersion`, one step at a time, each in its own transaction.
    static func migrate(_ db: SQLiteConnection, now: String) throws(IndexError) {
        while true {
            let version = try db.query("PRAGMA user_version") { $0.int64(0) }.first ?? 0
            if version == currentVersion { return }
            guard version < currentVersion else {
                throw IndexError.corrupt("schema version \(version) is newer than this server's \(currentVersion)")
            }
            try db.transaction { () throws(IndexError) in
                // Re-read inside the write lock: another process may have migrated meanwhile.
                let locked = try db.query("PRAGMA user_version") { $0.int64(0) }.first ?? 0
                guard locked == version else { return }
                switch version {
                case 0: try createVersion1(db)
                default: throw IndexError.corrupt("no migration from schema version \(version)")
                }
                try db.execute("PRAGMA user_version = \(version + 1)")
            }
        }
    }

    private static func createVersion1(_ db: SQLiteConnection) throws(IndexError) {
        try db.execute(
            """
            CREATE TABLE files (
                digest TEXT PRIMARY KEY NOT NULL,
                algorithm TEXT NOT NULL,
                size INTEGER NOT NULL CHECK (size >= 0),
                visibility TEXT NOT NULL CHECK (visibility IN ('public', 'internal')),
                first_seen TEXT NOT NULL,
                has_instances INTEGER NOT NULL DEFAULT 0
            ) WITHOUT ROWID;
            CREATE TABLE file_totals (
                visibility TEXT PRIMARY KEY NOT NULL,
                files INTEGER NOT NULL DEFAULT 0,
                bytes INTEGER NOT NULL DEFAULT 0
            ) WITHOUT ROWID;
            INSERT INTO file_totals(visibility) VALUES ('public'), ('internal');
            CREATE TRIGGER file_totals_insert AFTER INSERT ON files WHEN new.has_instances BEGIN
                UPDATE file_totals SET files = files + 1, bytes = bytes + new.size WHERE visibility = new.visibility;
            END;
            CREATE TRIGGER file_totals_delete AFTER DELETE ON files WHEN old.has_instances BEGIN
                UPDATE file_totals SET files = files - 1, bytes = bytes - old.size WHERE visibility = old.visibility;
            END;
            CREATE TRIGGER file_totals_update AFTER UPDATE OF size, visibility, has_instances ON files BEGIN
                UPDATE file_totals SET files = files - 1, bytes = bytes - old.size
                    WHERE visibility = old.visibility AND old.has_instances;
                UPDATE file_totals SET files = files + 1, bytes = bytes + new.size
                    WHERE visibility = new.visibility AND new.has_instances;
            END;
            CREATE TABLE batches (
                id INTEGER PRIMARY KEY,
                author TEXT NOT NULL,
                message TEXT NOT NULL,
                uploaded TEXT NOT NULL
            );
            CREATE TABLE batch_files (
                batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
                filename TEXT NOT NULL,
                digest TEXT NOT NULL REFERENCES files(digest),
                size INTEGER NOT NULL,
                visibility TEXT NOT NULL CHECK (visibility IN ('public', 'internal')),
                UNIQUE (batch_id, filename)
            );
            CREATE INDEX batch_files_digest ON batch_files(digest);
            CREATE VIRTUAL TABLE batches_fts USING fts5(author, message, content='batches', content_rowid='id',
                                                        tokenize='trigram');
            CREATE TRIGGER batches_fts_insert AFTER INSERT ON batches BEGIN
                INSERT INTO batches_fts(rowid, author, message) VALUES (new.id, new.author, new.message);
            END;
            CREATE TRIGGER batches_fts_delete AFTER DELETE ON batches BEGIN
                INSERT INTO batches_fts(batches_fts, rowid, author, message)
                    VALUES ('delete', old.id, old.author, old.message);
            END;
            CREATE VIRTUAL TABLE batch_files_fts USING fts5(filename, content='batch_files', content_rowid='rowid',
                                                            tokenize='trigram');
            CREATE TRIGGER batch_files_fts_insert AFTER INSERT ON batch_files BEGIN
                INSERT INTO batch_files_fts(rowid, filename) VALUES (new.rowid, new.filename);
            END;
            CREATE TRIGGER batch_files_fts_delete AFTER DELETE ON batch_files BEGIN
                INSERT INTO batch_files_fts(batch_files_fts, rowid, filename) VALUES ('delete', old.rowid, old.filename);
            END;
            CREATE TABLE tokens (
                id INTEGER PRIMARY KEY,
                user TEXT NOT NULL,
                token_hash BLOB NOT NULL UNIQUE,
                permissions TEXT NOT NULL,
                created TEXT NOT NULL,
                last_used TEXT,
                revoked TEXT
            );
            CREATE TABLE settings (
                key TEXT PRIMARY KEY NOT NULL,
                value NOT NULL
            ) WITHOUT ROWID;
            INSERT INTO settings(key, value) VALUES ('tokens_generation', 0);
            CREATE TRIGGER tokens_generation_insert AFTER INSERT ON tokens BEGIN
                UPDATE settings SET value = value + 1 WHERE key = 'tokens_generation';
            END;
            CREATE TRIGGER tokens_generation_update AFTER UPDATE OF user, token_hash, permissions, revoked ON tokens BEGIN
                UPDATE settings SET value = value + 1 WHERE key = 'tokens_generation';
            END;
            CREATE TRIGGER tokens_generation_delete AFTER DELETE ON tokens BEGIN
                UPDATE settings SET value = value + 1 WHERE key = 'tokens_generation';
            END;
            """)
        try db.run("INSERT INTO settings(key, value) VALUES ('hmac_secret', ?)", [.blob(Crypto.randomBytes(32))])
    }
}
