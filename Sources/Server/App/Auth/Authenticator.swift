import Foundation
import Shared
import Storage
import Synchronization

/// Turns an `Authorization: Bearer <token>` header into a `Caller`, without SQLite work on the hot path.
///
/// Lookups are cached by the token's SHA-256. The cache is dropped whenever the index's token generation moves
/// (a token created or revoked, also by the `token` command in another process); checking that costs one
/// `PRAGMA data_version` per authenticated request. Last-used times are collected and written in batches.
final class Authenticator: Sendable {
    private struct State {
        var cache: [[UInt8]: TokenRecord?] = [:]
        var dataVersion: Int64 = -1
        var generation: Int64 = -1
        var pendingTouches: Set<Int64> = []
        var lastFlush = Date()
    }

    /// The most tokens (valid or not) remembered; past it the cache starts over.
    static let cacheLimit = 4096
    /// How often last-used times are written.
    static let touchInterval: TimeInterval = 30

    private let index: MetadataIndex
    private let state = Mutex(State())

    /// Uses its own connection to the index so its lookups never queue behind uploads.
    init(index: MetadataIndex) {
        self.index = index
    }

    /// The caller behind an `Authorization` header value (nil: no header).
    func caller(authorization: String?) -> Caller {
        guard let authorization else { return .anonymous }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return .invalid(reason: "the Authorization header must be \"Bearer <token>\"")
        }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else { return .invalid(reason: "the bearer token is empty") }
        guard let record = lookup(token) else { return .invalid(reason: "the token is unknown or revoked") }
        noteUse(record.id)
        return .token(id: record.id, user: record.user, permissions: record.permissions)
    }

    private func lookup(_ token: String) -> TokenRecord? {
        let key = Crypto.sha256(token)
        do {
            let version = try index.dataVersion()
            let cached: TokenRecord?? = try state.withLock { (state) throws(IndexError) -> TokenRecord?? in
                if version != state.dataVersion {
                    state.dataVersion = version
                    let generation = try index.tokenGeneration()
                    if generation != state.generation {
                        state.generation = generation
                        state.cache.removeAll(keepingCapacity: true)
                    }
                }
                return state.cache[key]
            }
            if let cached { return cached }
            let record = try index.authenticate(token: token)
            state.withLock { state in
                if state.cache.count >= Self.cacheLimit { state.cache.removeAll(keepingCapacity: true) }
                state.cache[key] = .some(record)
            }
            return record
        } catch {
            ServerLog.error("token lookup failed: \(error)")
            return nil
        }
    }

    private func noteUse(_ id: Int64) {
        let due: Set<Int64>? = state.withLock { state in
            state.pendingTouches.insert(id)
            guard Date().timeIntervalSince(state.lastFlush) >= Self.touchInterval else { return nil }
            state.lastFlush = Date()
            defer { state.pendingTouches.removeAll() }
            return state.pendingTouches
        }
        if let due { DispatchQueue.global(qos: .utility).async { self.write(due) } }
    }

    /// Writes pending last-used times now (at shutdown).
    func flush() {
        let due = state.withLock { state in
            defer { state.pendingTouches.removeAll() }
            return state.pendingTouches
        }
        write(due)
    }

    private func write(_ ids: Set<Int64>) {
        guard !ids.isEmpty else { return }
        do { try index.touch(tokenIDs: ids) } catch { ServerLog.error("recording token use failed: \(error)") }
    }
}
