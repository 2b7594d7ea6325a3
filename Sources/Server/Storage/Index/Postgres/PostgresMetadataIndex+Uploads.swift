import Shared

extension PostgresMetadataIndex {
    static let beginUploadStatement = PGStatement(
        name: "begin_upload",
        sql: """
            INSERT INTO uploads(digest, expires) VALUES ($1, now() + make_interval(secs => $2)) RETURNING id
            """)
    static let renewUploadsStatement = PGStatement(
        name: "renew_uploads",
        sql: """
            UPDATE uploads SET expires = now() + make_interval(secs => $2) WHERE id = ANY($1::bigint[])
            """)
    static let dropExpiredStatement = PGStatement(
        name: "drop_expired_uploads", sql: "DELETE FROM uploads WHERE expires < now() - interval '1 hour'")
    static let endUploadStatement = PGStatement(name: "end_upload", sql: "DELETE FROM uploads WHERE id = $1")
    static let uploadInFlightStatement = PGStatement(
        name: "upload_in_flight", sql: "SELECT 1 FROM uploads WHERE digest = $1 AND expires > now() LIMIT 1")

    /// Shared by every server on the database.
    public var isShared: Bool { true }

    /// One insert; the lease runs on the database's clock, so servers' clocks need not agree.
    public func beginUpload(_ digest: Digest, lease: Int64) throws(IndexError) -> Int64? {
        try withConnection { (db) throws(IndexError) -> Int64? in
            try db.run(Self.beginUploadStatement, [.text(digest.hex), .int(lease)]).int64(0, 0)
        }
    }

    /// One update for all of them, plus the removal of leases that expired over an hour ago (a killed server's).
    public func renewUploads(_ leases: [Int64], lease: Int64) throws(IndexError) {
        let array = "{" + leases.map(String.init).joined(separator: ",") + "}"
        _ = try withConnection { (db) throws(IndexError) -> PGResult in
            if !leases.isEmpty { _ = try db.run(Self.renewUploadsStatement, [.text(array), .int(lease)]) }
            return try db.run(Self.dropExpiredStatement)
        }
    }

    public func endUpload(_ lease: Int64) throws(IndexError) {
        _ = try withConnection { (db) throws(IndexError) -> PGResult in
            try db.run(Self.endUploadStatement, [.int(lease)])
        }
    }

    public func uploadInFlight(_ digest: Digest) throws(IndexError) -> Bool {
        try withConnection { (db) throws(IndexError) -> Bool in
            try db.run(Self.uploadInFlightStatement, [.text(digest.hex)]).count > 0
        }
    }
}
