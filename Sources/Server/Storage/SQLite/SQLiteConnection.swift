import CSQLite

/// One owned `sqlite3*` connection. Not thread-safe: its owner (`SQLiteMetadataIndex`) serialises every call.
final class SQLiteConnection {
    /// The raw handle; never leaves the Storage target.
    let handle: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]

    /// Opens (creating when missing) the database at `path`, with a busy timeout for other writers.
    init(path: String, busyTimeoutMilliseconds: Int32 = 5000) throws(IndexError) {
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw IndexError.sqlite(call: "sqlite3_open_v2(\(path))", code: rc, message: message)
        }
        handle = db
        try check(sqlite3_busy_timeout(db, busyTimeoutMilliseconds), "sqlite3_busy_timeout")
        try check(sqlite3_extended_result_codes(db, 1), "sqlite3_extended_result_codes")
    }

    deinit {
        statements.removeAll()  // finalizes each cached statement before the close
        sqlite3_close_v2(handle)
    }

    /// Turns a result code into an `IndexError` naming `call` and carrying `sqlite3_errmsg`; OK, ROW and DONE pass.
    func check(_ rc: Int32, _ call: @autoclosure () -> String) throws(IndexError) {
        switch rc & 0xff {
        case SQLITE_OK, SQLITE_ROW, SQLITE_DONE: return
        default: throw IndexError.sqlite(call: call(), code: rc, message: String(cString: sqlite3_errmsg(handle)))
        }
    }

    /// Runs SQL text with no parameters and no rows wanted (schema, pragmas, BEGIN/COMMIT).
    func execute(_ sql: String) throws(IndexError) {
        try check(sqlite3_exec(handle, sql, nil, nil, nil), "sqlite3_exec(\(sql.prefix(60)))")
    }

    /// A prepared statement for `sql`, cached for the connection's lifetime, reset and with bindings cleared.
    func prepare(_ sql: String) throws(IndexError) -> SQLiteStatement {
        if let cached = statements[sql] {
            cached.reset()
            return cached
        }
        var raw: OpaquePointer?
        try check(
            sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil),
            "sqlite3_prepare_v3(\(sql.prefix(60)))")
        guard let raw else {
            throw IndexError.sqlite(call: "sqlite3_prepare_v3", code: SQLITE_MISUSE, message: "empty SQL")
        }
        let statement = SQLiteStatement(handle: raw, connection: self)
        statements[sql] = statement
        return statement
    }

    /// Runs a statement that returns no rows; returns the number of rows it changed.
    @discardableResult
    func run(_ sql: String, _ values: [SQLiteValue] = []) throws(IndexError) -> Int {
        let statement = try prepare(sql)
        defer { statement.reset() }
        try statement.bind(values)
        while try statement.step() {}
        return Int(sqlite3_changes(handle))
    }

    /// Runs a query and maps each row.
    func query<T>(
        _ sql: String, _ values: [SQLiteValue] = [],
        _ row: (SQLiteStatement) throws(IndexError) -> T
    ) throws(IndexError) -> [T] {
        let statement = try prepare(sql)
        defer { statement.reset() }
        try statement.bind(values)
        var rows: [T] = []
        while try statement.step() { rows.append(try row(statement)) }
        return rows
    }

    /// The rowid of the last successful INSERT on this connection.
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Runs `body` in a write transaction (BEGIN IMMEDIATE, so a busy writer is waited for up front), rolling back
    /// when it throws.
    func transaction<T>(_ body: () throws(IndexError) -> T) throws(IndexError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }
}
