import Shared

extension PostgresMetadataIndex {
    static let insertTokenStatement = PGStatement(
        name: "insert_token",
        sql: """
            INSERT INTO tokens("user", token_hash, permissions, created) VALUES ($1, $2, $3, $4) RETURNING id
            """)
    static let listTokensStatement = PGStatement(
        name: "list_tokens",
        sql: "SELECT id, \"user\", permissions, created, last_used, revoked FROM tokens ORDER BY id")
    static let revokeStatement = PGStatement(
        name: "revoke", sql: "UPDATE tokens SET revoked = $1 WHERE id = $2 AND revoked IS NULL")
    static let tokenExistsStatement = PGStatement(name: "token_exists", sql: "SELECT 1 FROM tokens WHERE id = $1")
    static let touchStatement = PGStatement(
        name: "touch", sql: "UPDATE tokens SET last_used = $1 WHERE id = ANY($2::bigint[])")

    public func createToken(user: String, permissions: Set<Permission>) throws(IndexError) -> (id: Int64, token: String)
    {
        try BatchValidation.checkToken(user: user, permissions: permissions)
        let token = Hex.encode(Crypto.randomBytes(32))
        let hash = Crypto.sha256(Array(token.utf8))
        let now = nowText()
        return try changingTokens { (db) throws(IndexError) -> (id: Int64, token: String) in
            let rows = try db.run(
                Self.insertTokenStatement,
                [
                    .text(user), .bytes(hash),
                    .text(Permission.formatList(permissions)), .text(now)
                ])
            return (rows.int64(0, 0), token)
        }
    }

    public func listTokens() throws(IndexError) -> [TokenInfo] {
        try withConnection { (db) throws(IndexError) -> [TokenInfo] in
            let rows = try db.run(Self.listTokensStatement)
            return try rows.rows { (row) throws(IndexError) -> TokenInfo in
                TokenInfo(
                    id: rows.int64(row, 0), user: rows.text(row, 1),
                    permissions: try Permission.parseList(rows.text(row, 2)),
                    created: rows.text(row, 3), lastUsed: rows.optionalText(row, 4), revoked: rows.optionalText(row, 5))
            }
        }
    }

    @discardableResult
    public func revokeToken(id: Int64) throws(IndexError) -> Bool {
        let now = nowText()
        return try changingTokens { (db) throws(IndexError) -> Bool in
            if try db.run(Self.revokeStatement, [.text(now), .int(id)]).affected == 1 { return true }
            guard try db.run(Self.tokenExistsStatement, [.int(id)]).count > 0 else {
                throw IndexError.notFound("token \(id)")
            }
            return false
        }
    }

    /// One UPDATE for all of them.
    public func touch(tokenIDs: [Int64]) throws(IndexError) {
        guard !tokenIDs.isEmpty else { return }
        let now = nowText()
        let array = "{" + tokenIDs.map(String.init).joined(separator: ",") + "}"
        _ = try withConnection { (db) throws(IndexError) -> PGResult in
            try db.run(Self.touchStatement, [.text(now), .text(array)])
        }
    }
}
