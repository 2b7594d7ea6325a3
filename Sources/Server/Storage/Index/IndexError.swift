import Shared

/// Why a metadata index operation failed. Validation cases are the client's fault (the app answers 400);
/// `sqlite`, `postgres` and `corrupt` are the server's (500); `unavailable` means the database cannot be reached
/// right now (the app answers 503 and retries later).
public enum IndexError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An SQLite call failed: the call's name, its result code and `sqlite3_errmsg`.
    case sqlite(call: String, code: Int32, message: String)
    /// A PostgreSQL call failed: the call's name, the SQLSTATE (empty when none) and libpq's message.
    case postgres(call: String, state: String, message: String)
    /// The database cannot be reached (refused, down, failing over, pool exhausted): try again later.
    case unavailable(String)
    /// The file is stored with another size than the batch declares.
    case sizeConflict(filename: String, digest: Digest, stored: Int64, declared: Int64)
    /// The file is stored with another visibility than the batch declares.
    case visibilityConflict(filename: String, digest: Digest, stored: Visibility, declared: Visibility)
    /// The request is malformed (empty message, no files, bad filename, ...); the text says what and why.
    case invalid(String)
    /// No record with this key.
    case notFound(String)
    /// The database holds something this code cannot read (a newer schema, an unknown permission, ...).
    case corrupt(String)

    public var description: String {
        switch self {
        case .sqlite(let call, let code, let message):
            return "\(call) failed: \(message) (SQLite code \(code))"
        case .postgres(let call, let state, let message):
            return "\(call) failed: \(message)" + (state.isEmpty ? "" : " (SQLSTATE \(state))")
        case .unavailable(let why):
            return "the index is unavailable: \(why)"
        case .sizeConflict(let filename, let digest, let stored, let declared):
            return "\(filename): size of \(digest.hex) is \(stored) bytes as stored, the batch declares \(declared)"
        case .visibilityConflict(let filename, let digest, let stored, let declared):
            return "\(filename): \(digest.hex) is stored as \(stored.rawValue), the batch declares \(declared.rawValue)"
        case .invalid(let reason):
            return reason
        case .notFound(let what):
            return "\(what) not found"
        case .corrupt(let what):
            return "metadata database is unreadable: \(what)"
        }
    }
}
