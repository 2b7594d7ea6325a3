import Dispatch
import FoundationEssentials
import Shared
import Storage
import Synchronization

/// Turns an `Authorization: Bearer <token>` header into a `Caller`, without index work on an event loop.
///
/// Lookups are cached by the token's SHA-256. The cache is dropped whenever the index's token generation moves
/// (a token created or revoked, also by the `token` command in another process). Asking for it is cheap (for
/// SQLite a `PRAGMA data_version` on one connection; for PostgreSQL the listener's counter) but still done at most
/// every `changeCheckInterval` (revocation takes effect within that time), and before trusting a cached "unknown
/// token", so a token created a moment ago works at once. Last-used times are collected and written in batches.
///
/// Two halves: `resolve` runs on the loop and answers from the cache alone; when the answer needs the index (a
/// miss, a cached "unknown", a due change check) it says so, and the request waits while `caller(token:)` asks the
/// index from the worker queue (`ServerHandler`).
final class Authenticator: Sendable {
    private struct State {
        var cache: [TokenKey: TokenRecord?] = [:]
        var generation: Int64 = -1
        var nextChangeCheck: ContinuousClock.Instant?
        var pendingTouches: Set<Int64> = []
        var lastFlush = ContinuousClock.now
    }

    /// The most tokens (valid or not) remembered; past it the cache starts over.
    static let cacheLimit = 4096
    /// How often last-used times are written.
    static let touchInterval: Duration = .seconds(30)
    /// How stale the cache may be: token changes made elsewhere are seen within this time.
    static let changeCheckInterval: Duration = .milliseconds(250)

    private let index: any MetadataIndex
    private let state = Mutex(State())

    /// Uses its own connection to the index so its lookups never queue behind uploads.
    init(index: any MetadataIndex) {
        self.index = index
    }

    /// What the loop can tell of an `Authorization` header without the index.
    enum Resolution {
        /// The caller, from the header alone or the cache.
        case caller(Caller)
        /// The index must be asked about this token (`caller(token:)`, off the loop).
        case needsIndex(token: String)
    }

    /// The caller behind an `Authorization` header value (nil: no header), when the cache knows it; never touches
    /// the index (event loops).
    func resolve(authorization: String?) -> Resolution {
        guard let authorization else { return .caller(.anonymous) }
        let token: String
        switch Self.bearerToken(authorization) {
        case .success(let found): token = found
        case .failure(let problem): return .caller(.invalid(reason: problem.reason))
        }
        guard let record = cachedRecord(TokenKey(Crypto.sha256(token))) else { return .needsIndex(token: token) }
        return .caller(Self.caller(record))
    }

    /// The caller a bearer token stands for, asking the index as needed (blocks: worker queue only).
    func caller(token: String) -> Caller {
        Self.caller(lookup(token))
    }

    private static func caller(_ record: TokenRecord?) -> Caller {
        guard let record else { return .invalid(reason: "the token is unknown or revoked") }
        return .token(id: record.id, user: record.user, permissions: record.permissions)
    }

    /// A live token's record from the cache, when no index question is due: nil for a miss, a cached "unknown"
    /// (which may predate the token's creation) and a due change check alike.
    private func cachedRecord(_ key: TokenKey) -> TokenRecord? {
        let (record, due) = state.withLock { state -> (TokenRecord?, Set<Int64>?) in
            let now = ContinuousClock.now
            guard let next = state.nextChangeCheck, now < next, case .some(.some(let record)) = state.cache[key] else {
                return (nil, nil)
            }
            return (record, noteUse(record.id, &state, now: now))
        }
        if let due { DispatchQueue.global(qos: .utility).async { self.write(due) } }
        return record
    }

    /// Why an `Authorization` header holds no usable bearer token.
    struct HeaderProblem: Error {
        let reason: String
    }

    /// The token of `Bearer <token>`: the byte-level fast path for the usual form, else the general parser.
    static func bearerToken(_ header: String) -> Result<String, HeaderProblem> {
        if let token = plainBearerToken(header) { return .success(token) }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            return .failure(HeaderProblem(reason: "the Authorization header must be \"Bearer <token>\""))
        }
        let token = String(parts[1].trimmingWhitespace())
        guard !token.isEmpty else { return .failure(HeaderProblem(reason: "the bearer token is empty")) }
        return .success(token)
    }

    /// The token of the usual `Bearer <token>` (any case of `Bearer`, one space, a token of visible ASCII), read as
    /// bytes; nil for anything else, which the general parser then handles. Foundation's `trimmingCharacters`
    /// cost a tenth of the server's time on authenticated small GETs.
    static func plainBearerToken(_ header: String) -> String? {
        var header = header
        return header.withUTF8 { bytes -> String? in
            guard bytes.count > 7, bytes[6] == 0x20,
                bytes[0] | 0x20 == 0x62, bytes[1] | 0x20 == 0x65, bytes[2] | 0x20 == 0x61,  // b e a
                bytes[3] | 0x20 == 0x72, bytes[4] | 0x20 == 0x65, bytes[5] | 0x20 == 0x72  // r e r
            else { return nil }
            let token = UnsafeBufferPointer(rebasing: bytes[7...])
            for byte in token where byte < 0x21 || byte > 0x7E { return nil }
            return String(decoding: token, as: UTF8.self)
        }
    }

    /// The token's record (nil: unknown or revoked); a cache hit also notes the use, under the same lock.
    private func lookup(_ token: String) -> TokenRecord? {
        let hash = Crypto.sha256(token), key = TokenKey(hash)
        do {
            var due: Set<Int64>?
            let cached: TokenRecord?? = try state.withLock { (state) throws(IndexError) -> TokenRecord?? in
                let now = ContinuousClock.now
                if state.nextChangeCheck.map({ now >= $0 }) ?? true {
                    try dropCacheIfTokensChanged(&state, now: now)
                }
                var cached = state.cache[key]
                if case .some(nil) = cached {  // a negative answer may predate the token's creation: check now
                    try dropCacheIfTokensChanged(&state, now: now)
                    cached = state.cache[key]
                }
                if case .some(.some(let record)) = cached { due = noteUse(record.id, &state, now: now) }
                return cached
            }
            if let due { DispatchQueue.global(qos: .utility).async { self.write(due) } }
            if let cached { return cached }
            let record = try index.authenticate(tokenHash: hash)
            due = state.withLock { state in
                if state.cache.count >= Self.cacheLimit { state.cache.removeAll(keepingCapacity: true) }
                state.cache[key] = .some(record)
                return record.flatMap { noteUse($0.id, &state, now: .now) }
            }
            if let due { DispatchQueue.global(qos: .utility).async { self.write(due) } }
            return record
        } catch {
            ServerLog.error("token lookup failed: \(error)")
            return nil
        }
    }

    /// Asks the index whether anything changed since the last check and, if tokens did, empties the cache.
    private func dropCacheIfTokensChanged(_ state: inout State, now: ContinuousClock.Instant) throws(IndexError) {
        state.nextChangeCheck = now + Self.changeCheckInterval
        let generation = try index.tokenGeneration()
        if generation != state.generation {
            state.generation = generation
            state.cache.removeAll(keepingCapacity: true)
        }
    }

    /// Notes a use; returns the pending touches when they are due to be written.
    private func noteUse(_ id: Int64, _ state: inout State, now: ContinuousClock.Instant) -> Set<Int64>? {
        state.pendingTouches.insert(id)
        guard now - state.lastFlush >= Self.touchInterval else { return nil }
        state.lastFlush = now
        defer { state.pendingTouches.removeAll() }
        return state.pendingTouches
    }

    /// Makes the next lookup ask the index whether tokens changed (called after this process revoked one, so the
    /// revocation holds from the next request on rather than within `changeCheckInterval`).
    func tokensChanged() {
        state.withLock { $0.nextChangeCheck = nil }
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
        do { try index.touch(tokenIDs: Array(ids)) } catch { ServerLog.error("recording token use failed: \(error)") }
    }
}

/// A token's SHA-256 as the cache's key: four words, hashed as four words (an `[UInt8]` key fed the hasher byte by
/// byte, a tenth of a pvt GET's extra instructions).
struct TokenKey: Hashable, Sendable {
    private let words: (UInt64, UInt64, UInt64, UInt64)

    /// The key of a 32-byte SHA-256.
    init(_ hash: [UInt8]) {
        precondition(hash.count == 32, "a token hash is 32 bytes, got \(hash.count)")
        words = hash.withUnsafeBytes { bytes in
            (
                bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self),
                bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
            )
        }
    }

    static func == (a: TokenKey, b: TokenKey) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}
