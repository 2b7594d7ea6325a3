import CSQLite

/// A value bound to a statement parameter.
enum SQLiteValue {
    case int(Int64)
    case text(String)
    case blob([UInt8])
    case null
}

/// One owned `sqlite3_stmt*`, finalized on deinit. Used only under its connection's serialisation.
final class SQLiteStatement {
    /// The raw handle; never leaves the Storage target.
    let handle: OpaquePointer
    private unowned let connection: SQLiteConnection

    init(handle: OpaquePointer, connection: SQLiteConnection) {
        self.handle = handle
        self.connection = connection
    }

    deinit { sqlite3_finalize(handle) }

    /// Binds `values` to parameters 1...n.
    func bind(_ values: [SQLiteValue]) throws(IndexError) {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .int(let number): rc = sqlite3_bind_int64(handle, index, number)
            case .text(let text): rc = tt_sqlite3_bind_text_transient(handle, index, text, -1)
            case .blob(let bytes):
                rc = bytes.withUnsafeBytes {
                    tt_sqlite3_bind_blob_transient(handle, index, $0.baseAddress, Int32($0.count))
                }
            case .null: rc = sqlite3_bind_null(handle, index)
            }
            try connection.check(rc, "sqlite3_bind(\(index))")
        }
    }

    /// Advances to the next row: true when a row is available, false when done.
    func step() throws(IndexError) -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        try connection.check(rc, "sqlite3_step(\(String(cString: sqlite3_sql(handle)).prefix(60)))")
        return false
    }

    /// Rewinds the statement and clears its bindings so it can be reused.
    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Column `index` (0-based) as an integer.
    func int64(_ index: Int32) -> Int64 { sqlite3_column_int64(handle, index) }

    /// True when column `index` is NULL.
    func isNull(_ index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }

    /// Column `index` as text; "" for NULL.
    func text(_ index: Int32) -> String {
        guard let pointer = sqlite3_column_text(handle, index) else { return "" }
        return String(cString: pointer)
    }

    /// Column `index` as text, nil for NULL.
    func optionalText(_ index: Int32) -> String? { isNull(index) ? nil : text(index) }

    /// Column `index` as bytes.
    func blob(_ index: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, index))
        guard count > 0, let pointer = sqlite3_column_blob(handle, index) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
