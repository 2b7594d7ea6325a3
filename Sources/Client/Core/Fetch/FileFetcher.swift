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

    /// Fetches `record` into the current folder; false (after logging why) when it could not.
    func fetch(_ record: ManifestRecord, easy: CurlEasy?) -> Bool {
        let target = record.filename
        let source: ProgressBoard.Source
        do {
            source = try obtain(record, at: target, easy: easy)
            if record.unpack { try Unpacker.unpack(archive: target, into: ".") }
        } catch {
            Log.error("\(record.filename): \(error.message)")
            board.finished(record.filename, size: record.size, source: .failed)
            return false
        }
        board.finished(record.filename, size: record.size, source: source)
        return true
    }

    private func obtain(_ record: ManifestRecord, at target: String,
                        easy: CurlEasy?) throws(ClientError) -> ProgressBoard.Source {
        let state = LocalFileState.check(record, at: target)
        if state == .valid {
            Log.debug("\(target) is present and valid")
            return .present
        }
        if state != .missing { Log.info("\(target) is not valid (\(state.problem(expected: record) ?? "")); replacing it") }
        if let cache, cache.install(record, at: target) {
            Log.info("\(target): taken from the cache")
            return .cache
        }
        guard !urls.isEmpty else {
            throw ClientError(.configuration, "not in the cache and no server URL given (--url or TOOLTOOL_URL)")
        }
        guard let easy else { throw ClientError(.network, "no HTTP handle available") }
        var failures: [String] = []
        for base in urls {
            let file = try DownloadFile(record: record, target: target)
            file.onProgress = { [board] bytes in board.update(record.filename, bytes: bytes, size: record.size) }
            let download = ServerDownload(baseURL: base, token: token, policy: policy)
            switch try download.run(file, easy: easy) {
            case .success:
                try file.commit(to: target)
                cache?.insert(target, digest: record.digest)
                Log.info("\(target): downloaded from \(base)")
                return .download
            case .failure(let error):
                Log.warning("\(target): \(base) failed: \(error.message)")
                failures.append("\(base): \(error.message)")
            }
        }
        throw ClientError(.network, "could not be fetched from any server (\(failures.joined(separator: "; ")))")
    }
}
