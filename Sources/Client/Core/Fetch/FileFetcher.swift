import Shared

/// Gets one record's file into place: keep a valid local file, else take it from the cache, else download it from
/// the servers in order; then unpack it when the record says so.
///
/// A value shared by every worker thread; each call uses the worker's own `CurlEasy`.
struct FileFetcher: Sendable {
    /// Server base URLs, tried in order.
    let urls: [String]
    /// The bearer token, when there is one.
    let token: String?
    /// Retries and backoff per server.
    let policy: RetryPolicy
    /// The cache, when there is one.
    let cache: Cache?
    /// Progress and counts.
    let board: ProgressBoard

    /// How one record ended.
    enum Outcome: Sendable, Equatable {
        /// In place (and unpacked when asked).
        case done
        /// Not obtained from anywhere (logged as it happened).
        case failed
        /// In place and verified, but its unpacking was refused by the entry policy, for `reason`.
        case unpackRefused(reason: String)
        /// In place and verified, but it could not be unpacked (unknown format, corrupt archive, disk), for `reason`.
        case unpackFailed(reason: String)
    }

    /// Fetches `record` into the current folder, then unpacks it when the record says so.
    func fetch(_ record: ManifestRecord, easy: CurlEasy?) -> Outcome {
        let target = record.filename
        let source: ProgressBoard.Source
        do {
            source = try obtain(record, at: target, easy: easy)
        } catch {
            Log.error("\(record.filename): \(error.message)")
            board.finished(record.filename, size: record.size ?? 0, source: .failed)
            return .failed
        }
        let size = record.size ?? FileSystem.status(target).map { Int64($0.st_size) } ?? 0
        board.finished(record.filename, size: size, source: source)
        guard record.unpack else { return .done }
        do {
            try Unpacker.unpack(archive: target, into: ".")
        } catch {
            board.notUnpacked(refused: error.code == .unpackRefused)
            return error.code == .unpackRefused
                ? .unpackRefused(reason: error.message) : .unpackFailed(reason: error.message)
        }
        return .done
    }

    private func obtain(
        _ record: ManifestRecord, at target: String,
        easy: CurlEasy?
    ) throws(ClientError) -> ProgressBoard.Source {
        let state = LocalFileState.check(record, at: target)
        if state == .valid {
            Log.debug("\(target) is present and valid")
            return .present
        }
        if state != .missing {
            Log.info("\(target) is not valid (\(state.problem(expected: record) ?? "")); replacing it")
        }
        if let cache, cache.install(record, at: target, replacing: state != .missing) {
            Log.info("\(target): taken from the cache")
            return .cache
        }
        guard !urls.isEmpty else {
            throw ClientError(.configuration, "not in the cache and no server URL given (--url or TOOLTOOL_URL)")
        }
        guard let easy else { throw ClientError(.network, "no HTTP handle available") }
        return try download(record, to: target, easy: easy)
    }

    /// Downloads from the servers in rounds: each round tries every server still in play once, in order, so a dead
    /// first server costs one failed attempt, not a whole backoff schedule; between rounds it backs off (with
    /// jitter, honouring `Retry-After`). A server that answers for good (4xx, wrong bytes) leaves play for this
    /// file. Each server gets at most `1 + retries` attempts. Bytes already received are resumed with `Range`.
    private func download(
        _ record: ManifestRecord, to target: String, easy: CurlEasy
    ) throws(ClientError) -> ProgressBoard.Source {
        let file = try DownloadFile(record: record, target: target)
        file.onProgress = { [board] bytes in board.update(record.filename, bytes: bytes, size: record.size ?? bytes) }
        var inPlay = urls
        var failures: [String: String] = [:]
        var retryAfter: Int?
        for round in 0...policy.retries where !inPlay.isEmpty {
            if round > 0 {
                let delay = policy.delayMilliseconds(retry: round, retryAfter: retryAfter)
                Log.debug("\(target): round \(round + 1) of \(policy.retries + 1) in \(delay) ms")
                RetryPolicy.sleep(milliseconds: delay)
            }
            retryAfter = nil
            for base in inPlay {
                switch try ServerDownload(baseURL: base, token: token).attempt(file, easy: easy) {
                case .success:
                    try file.commit(to: target)
                    cache?.insert(file, committedTo: target, digest: record.digest)
                    Log.info("\(target): downloaded from \(base)")
                    return .download
                case .retryable(let error, let after):
                    Log.warning("\(target): \(base) failed: \(error.message)")
                    failures[base] = error.message
                    if let after { retryAfter = max(retryAfter ?? 0, after) }
                case .permanent(let error):
                    Log.warning("\(target): \(base) failed: \(error.message); not asking it again for this file")
                    failures[base] = error.message
                    inPlay.removeAll { $0 == base }
                }
            }
        }
        let reasons = urls.map { "\($0): \(failures[$0] ?? "not tried")" }.joined(separator: "; ")
        throw ClientError(.network, "could not be fetched from any server (\(reasons))")
    }
}
