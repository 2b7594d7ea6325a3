import Shared

/// Where the metadata index lives: an SQLite file (the default, one per store) or a PostgreSQL database (shared by
/// several servers).
public enum IndexLocation: Sendable, Equatable, CustomStringConvertible {
    /// An SQLite file at this path (created when missing).
    case sqlite(path: String)
    /// A PostgreSQL database: a libpq connection URI, `postgresql://user[:password]@host[:port]/db[?param=value...]`.
    case postgres(uri: String)

    /// The default: `root/tooltool.sqlite`.
    public static func defaultSQLite(root: String) -> IndexLocation { .sqlite(path: root + "/tooltool.sqlite") }

    /// Parses `--index`: a `postgresql://` or `postgres://` URI, else an SQLite path. Empty text is refused.
    public init(parsing text: String) throws(IndexError) {
        let trimmed = String(text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
        guard !trimmed.isEmpty else { throw IndexError.invalid("the index location is empty") }
        let lower = trimmed.lowercased()
        if lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://") {
            self = .postgres(uri: trimmed)
        } else if lower.contains("://") {
            throw IndexError.invalid(
                "the index must be an SQLite path or a postgresql:// URI, got a \(trimmed.prefix { $0 != ":" }):// URL")
        } else {
            self = .sqlite(path: trimmed)
        }
    }

    /// For messages and logs: the path, or the URI with any password replaced by `***` (and no query string, which
    /// may carry one too).
    public var description: String {
        switch self {
        case .sqlite(let path): return path
        case .postgres(let uri): return Self.redacted(uri)
        }
    }

    /// `uri` without its password and query string.
    static func redacted(_ uri: String) -> String {
        let parts = uri.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].isEmpty else { return "postgresql://***" }
        let scheme = parts[0]
        var rest = parts[2]
        if let query = rest.firstIndex(of: "?") { rest = rest[..<query] }
        if let at = rest.lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") {
            return "\(scheme)//\(rest[..<colon]):***\(rest[at...])"
        }
        return "\(scheme)//\(rest)"
    }
}
