import CPostgres
import Shared

/// One owned `PGresult*` (text format), cleared on release.
final class PGResult {
    private let handle: OpaquePointer

    init(_ handle: OpaquePointer) { self.handle = handle }

    deinit { PQclear(handle) }

    /// Rows returned.
    var count: Int { Int(PQntuples(handle)) }

    /// Rows a command changed (`UPDATE`, `INSERT`, `DELETE`), 0 when it says none.
    var affected: Int { Int(String(cString: PQcmdTuples(handle))) ?? 0 }

    /// True when the value at (`row`, `column`) is NULL.
    func isNull(_ row: Int, _ column: Int) -> Bool { PQgetisnull(handle, Int32(row), Int32(column)) != 0 }

    /// The value as text ("" for NULL).
    func text(_ row: Int, _ column: Int) -> String {
        String(cString: PQgetvalue(handle, Int32(row), Int32(column)))
    }

    /// The value as text, nil for NULL.
    func optionalText(_ row: Int, _ column: Int) -> String? { isNull(row, column) ? nil : text(row, column) }

    /// The value as an integer (0 for NULL or non-numbers).
    func int64(_ row: Int, _ column: Int) -> Int64 { Int64(text(row, column)) ?? 0 }

    /// A boolean column (`t`/`f`).
    func bool(_ row: Int, _ column: Int) -> Bool { text(row, column) == "t" }

    /// A bytea column, decoded from its hex text form (`\x...`).
    func bytes(_ row: Int, _ column: Int) -> [UInt8] {
        let value = text(row, column)
        guard value.hasPrefix("\\x") else { return [] }
        return Hex.decode(String(value.dropFirst(2))) ?? []
    }

    /// Maps every row.
    func rows<T>(_ transform: (Int) throws(IndexError) -> T) throws(IndexError) -> [T] {
        var result: [T] = []
        result.reserveCapacity(count)
        for row in 0..<count { result.append(try transform(row)) }
        return result
    }
}
