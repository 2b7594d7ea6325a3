import CPostgres
import Shared

#if canImport(Glibc)
import Glibc
#endif

/// One owned libpq connection (`PGconn*`), with the statements it has prepared.
///
/// Not thread-safe by itself: a `PGPool` hands it to one thread at a time.
final class PGConnection: @unchecked Sendable {
    // @unchecked Sendable: only a pool moves it between threads, and the pool's checkout gives it to one caller at a
    // time (see `PGPool.withConnection`); nothing else holds it.
    /// The raw handle; never leaves the Storage target.
    let handle: OpaquePointer
    /// Names of the statements prepared on this connection (statements are prepared once per connection).
    private var prepared: Set<String> = []

    /// Connects to `uri` (a libpq connection URI or keyword string), giving up after `connectTimeout` seconds.
    init(uri: String, connectTimeout: Int = 5) throws(IndexError) {
        // Keywords processed later win, so any of these defaults written in the URI overrides it. tcp_user_timeout
        // and the keepalives bound how long a call waits on a database that vanished without closing (a failover,
        // a partition) before it fails as `.unavailable`; statement_timeout bounds one that hangs.
        let keywords = [
            "connect_timeout", "tcp_user_timeout", "keepalives_idle", "keepalives_interval",
            "keepalives_count", "options", "dbname", "application_name"
        ]
        let values = [
            String(connectTimeout), "10000", "5", "2", "3", "-c statement_timeout=30000", uri, "tooltool-server"
        ]
        let connection = withCStrings(keywords) { keys in
            withCStrings(values) { vals in PQconnectdbParams(keys, vals, 1) }
        }
        guard let connection else { throw IndexError.unavailable("PQconnectdbParams: out of memory") }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(connection))
            PQfinish(connection)
            throw IndexError.unavailable("cannot connect to PostgreSQL: \(message)")
        }
        handle = connection
    }

    deinit { PQfinish(handle) }

    /// False once the connection broke (the server went away); the pool then drops it.
    var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Runs SQL text without parameters (schema, BEGIN/COMMIT, LISTEN); may hold several statements.
    @discardableResult
    func execute(_ sql: String) throws(IndexError) -> PGResult {
        try check(PQexec(handle, sql), "PQexec(\(sql.prefix(60)))")
    }

    /// Runs `statement` with `parameters`: prepared on this connection the first time it is used here, or, for a
    /// statement planned per call, parsed and planned with these parameters each time (an unnamed statement).
    @discardableResult
    func run(_ statement: PGStatement, _ parameters: [PGValue] = []) throws(IndexError) -> PGResult {
        if statement.planning == .perCall {
            let texts = parameters.map(\.text)
            let result = withOptionalCStrings(texts) { values in
                PQexecParams(handle, statement.sql, Int32(texts.count), nil, values, nil, nil, 0)
            }
            return try check(result, "PQexecParams(\(statement.name))")
        }
        if !prepared.contains(statement.name) {
            _ = try check(PQprepare(handle, statement.name, statement.sql, 0, nil), "PQprepare(\(statement.name))")
            prepared.insert(statement.name)
        }
        let texts = parameters.map(\.text)
        let result = withOptionalCStrings(texts) { values in
            PQexecPrepared(handle, statement.name, Int32(texts.count), values, nil, nil, 0)
        }
        return try check(result, "PQexecPrepared(\(statement.name))")
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    func transaction<T>(_ body: () throws(IndexError) -> T) throws(IndexError) -> T {
        try execute("BEGIN")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            if isHealthy { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    /// Wraps a result, or turns a failure into an `IndexError` naming `call`: `.unavailable` when the connection
    /// broke or the server is shutting down or unreachable (SQLSTATE class 08, 57P0x), else `.postgres`.
    private func check(_ result: OpaquePointer?, _ call: @autoclosure () -> String) throws(IndexError) -> PGResult {
        guard let result else {
            throw failure(call(), state: "", message: Self.trimmed(PQerrorMessage(handle)))
        }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
            let message = Self.trimmed(PQresultErrorMessage(result))
            PQclear(result)
            throw failure(
                call(), state: state, message: message.isEmpty ? Self.trimmed(PQerrorMessage(handle)) : message)
        }
        return PGResult(result)
    }

    private func failure(_ call: String, state: String, message: String) -> IndexError {
        if !isHealthy || state.hasPrefix("08") || state.hasPrefix("57P") {
            return .unavailable("\(call): \(message)")
        }
        return .postgres(call: call, state: state, message: message)
    }

    /// A libpq message on one line: libpq ends its messages with a newline and splits some over several (a refused
    /// connection adds "\n\tIs the server running on that host...?"); logs and `error:` lines want one.
    static func trimmed(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "" }
        return String(cString: text).split(whereSeparator: \.isNewline)
            .map { String($0.drop { $0.isWhitespace }) }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
    }
}

/// A named statement; `sql` uses `$1`, `$2`, ... and PostgreSQL infers the parameter types.
struct PGStatement: Sendable {
    /// Unique per statement text.
    let name: String
    /// The SQL.
    let sql: String
    /// Prepared once per connection (the default), or planned on every call.
    var planning: PGPlanning = .prepared
}

/// When PostgreSQL plans a statement.
enum PGPlanning: Sendable {
    /// Prepared once per connection; after five calls PostgreSQL may settle on one generic plan for any parameters.
    case prepared
    /// Planned on every call with its parameters. For searches, whose best plan depends on the text: a generic plan
    /// cannot tell a rare `ILIKE` text (use the trigram index) from a common one (walk the newest rows), and on a
    /// large index the wrong one costs a walk of the whole table (bench/index-scale shows the plans).
    case perCall
}

/// A parameter value, sent in text form.
enum PGValue: Sendable {
    case text(String)
    case int(Int64)
    case bytes([UInt8])
    case bool(Bool)
    /// A `text[]` (cast the parameter: `$1::text[]`).
    case textArray([String])
    /// A `bigint[]` (cast the parameter: `$1::bigint[]`).
    case intArray([Int64])
    case null

    /// The text form libpq sends (bytea in hex: `\x...`; arrays as `{...}` literals), nil for NULL.
    var text: String? {
        switch self {
        case .text(let value): return value
        case .int(let value): return String(value)
        case .bytes(let value): return "\\x" + Hex.encode(value)
        case .bool(let value): return value ? "t" : "f"
        case .textArray(let values): return Self.arrayLiteral(values)
        case .intArray(let values): return "{" + values.map(String.init).joined(separator: ",") + "}"
        case .null: return nil
        }
    }

    /// A `text[]` literal: each element double-quoted with `\\` and `"` escaped, so any text (commas, braces,
    /// quotes, spaces, `NULL`) is read back as itself. Built byte by byte: a batch of 1,000 files sends arrays of
    /// 130,000 characters, and walking them as `Character`s cost milliseconds.
    static func arrayLiteral(_ values: [String]) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(values.reduce(2) { $0 + $1.utf8.count + 3 })
        for (position, value) in values.enumerated() {
            if position > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(byte)
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Calls `body` with a C array of C strings (valid only during the call).
func withCStrings<T>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
    withOptionalCStrings(strings.map { Optional($0) }) { pointers in body(pointers + [nil]) }
}

/// Calls `body` with a C array of C strings or NULLs (valid only during the call).
func withOptionalCStrings<T>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0)! } }
    defer { copies.forEach { free($0) } }
    return body(copies.map { $0.map { UnsafePointer($0) } })
}
