import Shared

/// The PostgreSQL index's schema and its numbered migrations.
///
/// The version lives in `schema_version`; migrations run at start-up under a session advisory lock, so several
/// servers starting at once take turns and each step runs once. A database newer than `currentVersion` is refused.
enum PostgresSchema {
    /// The version this code writes.
    static let currentVersion: Int64 = 2
    /// The advisory lock key that serialises migrations (any constant shared by every tooltool-server).
    static let migrationLock: Int64 = 0x7474_6f6f_6c74_6f6f  // "ttooltoo"

    /// Brings the database to `currentVersion`, one step per transaction, holding the migration lock meanwhile.
    static func migrate(_ db: PGConnection) throws(IndexError) {
        try db.execute("SELECT pg_advisory_lock(\(migrationLock))")
        defer { if db.isHealthy { _ = try? db.execute("SELECT pg_advisory_unlock(\(migrationLock))") } }
        try db.execute("SET client_min_messages = warning")  // no NOTICE on stderr for the IF NOT EXISTS below
        try db.execute("CREATE TABLE IF NOT EXISTS schema_version (version bigint NOT NULL)")
        while true {
            let rows = try db.execute("SELECT version FROM schema_version")
            let version = rows.count == 0 ? 0 : rows.int64(0, 0)
            if version == currentVersion { return }
            guard version < currentVersion else {
                throw IndexError.corrupt("schema version \(version) is newer than this server's \(currentVersion)")
            }
            try db.transaction { () throws(IndexError) in
                switch version {
                case 0: try createVersion1(db)
                case 1: try createVersion2(db)
                default: throw IndexError.corrupt("no migration from schema version \(version)")
                }
                try db.execute(
                    "DELETE FROM schema_version; INSERT INTO schema_version(version) VALUES (\(version + 1))")
            }
        }
    }

    /// Version 2: uploads in flight, each with a lease that its server renews while the body streams.
    private static func createVersion2(_ db: PGConnection) throws(IndexError) {
        try db.execute(
            """
            CREATE TABLE uploads (
                id bigserial PRIMARY KEY,
                digest text COLLATE "C" NOT NULL,
                expires timestamptz NOT NULL
            );
            CREATE INDEX uploads_digest ON uploads(digest);
            """)
    }

    private static func createVersion1(_ db: PGConnection) throws(IndexError) {
        try db.execute(
            """
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
            CREATE TABLE files (
                digest text COLLATE "C" PRIMARY KEY,
                algorithm text NOT NULL,
                size bigint NOT NULL CHECK (size >= 0),
                visibility text NOT NULL CHECK (visibility IN ('public', 'internal')),
                first_seen text NOT NULL,
                has_instances boolean NOT NULL DEFAULT false
            );
            CREATE TABLE file_totals (
                visibility text PRIMARY KEY,
                files bigint NOT NULL DEFAULT 0,
                bytes bigint NOT NULL DEFAULT 0
            );
            INSERT INTO file_totals(visibility) VALUES ('public'), ('internal');
            CREATE FUNCTION tooltool_file_totals() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.has_instances THEN
                    UPDATE file_totals SET files = files - 1, bytes = bytes - OLD.size WHERE visibility = OLD.visibility;
                END IF;
                IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.has_instances THEN
                    UPDATE file_totals SET files = files + 1, bytes = bytes + NEW.size WHERE visibility = NEW.visibility;
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER file_totals AFTER INSERT OR UPDATE OF size, visibility, has_instances OR DELETE ON files
                FOR EACH ROW EXECUTE FUNCTION tooltool_file_totals();
            CREATE TABLE batches (
                id bigserial PRIMARY KEY,
                author text NOT NULL,
                message text NOT NULL,
                uploaded text NOT NULL
            );
            CREATE INDEX batches_author_trgm ON batches USING gin (author gin_trgm_ops);
            CREATE INDEX batches_message_trgm ON batches USING gin (message gin_trgm_ops);
            CREATE TABLE batch_files (
                id bigserial PRIMARY KEY,
                batch_id bigint NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
                filename text NOT NULL,
                digest text COLLATE "C" NOT NULL REFERENCES files(digest),
                size bigint NOT NULL,
                visibility text NOT NULL CHECK (visibility IN ('public', 'internal')),
                UNIQUE (batch_id, filename)
            );
            CREATE INDEX batch_files_digest ON batch_files(digest);
            CREATE INDEX batch_files_filename_trgm ON batch_files USING gin (filename gin_trgm_ops);
            CREATE TABLE tokens (
                id bigserial PRIMARY KEY,
                "user" text NOT NULL,
                token_hash bytea NOT NULL UNIQUE,
                permissions text NOT NULL,
                created text NOT NULL,
                last_used text,
                revoked text
            );
            CREATE TABLE counters (name text PRIMARY KEY, value bigint NOT NULL);
            INSERT INTO counters(name, value) VALUES ('tokens_generation', 0);
            CREATE FUNCTION tooltool_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE generation bigint;
            BEGIN
                UPDATE counters SET value = value + 1 WHERE name = 'tokens_generation' RETURNING value INTO generation;
                PERFORM pg_notify('tooltool_tokens', generation::text);
                RETURN NULL;
            END $$;
            CREATE TRIGGER tokens_changed AFTER INSERT OR UPDATE OF "user", token_hash, permissions, revoked OR DELETE
                ON tokens FOR EACH ROW EXECUTE FUNCTION tooltool_tokens_changed();
            CREATE TABLE secrets (name text PRIMARY KEY, value bytea NOT NULL);
            INSERT INTO secrets(name, value) VALUES ('hmac_secret', '\\x\(Hex.encode(Crypto.randomBytes(32)))'::bytea);
            """)
    }
}
