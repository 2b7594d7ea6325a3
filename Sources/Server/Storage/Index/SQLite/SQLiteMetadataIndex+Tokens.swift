import Shared

extension SQLiteMetadataIndex {
    /// Makes a token for `user`: 32 random bytes (256 bits) as 64 hex characters. Only its SHA-256 is stored, so the
    /// returned text is the one and only copy.
    public func createToken(user: String, permissions: Set<Permission>) throws(IndexError) -> (id: Int64, token: String)
    {
        try BatchValidation.checkToken(user: user, permissions: permissions)
        let token = Hex.encode(Crypto.randomBytes(32))
        let hash = Crypto.sha256(Array(token.utf8))
        let now = nowText()
        return try changingTokens { (db) throws(IndexError) -> (id: Int64, token: String) in
            try db.run(
                "INSERT INTO tokens(user, token_hash, permissions, created) VALUES (?, ?, ?, ?)",
                [.text(user), .blob(hash), .text(Permission.formatList(permissions)), .text(now)])
            return (db.lastInsertRowID, token)
        }
    }

    /// Every token, oldest first, without the token or its hash.
    public func listTokens() throws(IndexError) -> [TokenInfo] {
        try withConnection { (db) throws(IndexError) -> [TokenInfo] in
            try db.query("SELECT id, user, permissions, created, last_used, revoked FROM tokens ORDER BY id") {
                (row) throws(IndexError) -> TokenInfo in
                TokenInfo(
                    id: row.int64(0), user: row.text(1), permissions: try Permission.parseList(row.text(2)),
                    created: row.text(3), lastUsed: row.optionalText(4), revoked: row.optionalText(5))
            }
        }
    }

    /// Revokes a token: from now on `authenticate` refuses it. Returns false when it was already revoked.
    /// Throws `.notFound` for an unknown id.
    @discardableResult
    public func revokeToken(id: Int64) throws(IndexError) -> Bool {
        let now = nowText()
        return try changingTokens { (db) throws(IndexError) -> Bool in
            if try db.run("UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL", [.text(now), .int(id)]) == 1
            {
                return true
            }
            guard try !db.query("SELECT 1 FROM tokens WHERE id = ?", [.int(id)], { _ in true }).isEmpty else {
                throw IndexError.notFound("token \(id)")
            }
            return false
        }
    }

    /// The record of the token whose SHA-256 is `hash` (for callers that keyed a cache by it already).
    public func authenticate(tokenHash hash: [UInt8]) throws(IndexError) -> TokenRecord? {
        let row = try withConnection { (db) throws(IndexError) -> (Int64, String, [UInt8], String, Bool)? in
            try db.query(
                "SELECT id, user, token_hash, permissions, revoked IS NOT NULL FROM tokens WHERE token_hash = ?",
                [.blob(hash)]
            ) { ($0.int64(0), $0.text(1), $0.blob(2), $0.text(3), $0.int64(4) != 0) }.first
        }
        guard let (id, user, storedHash, permissions, revoked) = row,
            Crypto.constantTimeEqual(storedHash, hash), !revoked
        else { return nil }
        return TokenRecord(id: id, user: user, permissions: Set(try Permission.parseList(permissions)))
    }

    /// Records that these tokens were used now, in one transaction (the app batches its touches).
    public func touch(tokenIDs: [Int64]) throws(IndexError) {
        guard !tokenIDs.isEmpty else { return }
        let now = nowText()
        try withConnection { (db) throws(IndexError) in
            try db.transaction { () throws(IndexError) in
                for id in tokenIDs {
                    try db.run("UPDATE tokens SET last_used = ? WHERE id = ?", [.text(now), .int(id)])
                }
            }
        }
    }
}
