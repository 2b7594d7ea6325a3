import Shared
import Synchronization

/// `tooltool fetch [FILE...]`: every record of the manifest (or those named), `-j` at a time.
struct FetchCommand {
    /// The parsed command line.
    let options: Options

    /// Fetches; fails naming every file that could not be fetched, and every one whose unpacking was refused or failed.
    func run() throws(ClientError) -> Bool {
        let manifest = try ManifestFile.load(options.manifest)
        var records: [ManifestRecord] = []
        var seen = Set<String>()
        for record in manifest.records where seen.insert(record.filename).inserted {
            if options.files.isEmpty || options.files.contains(record.filename) { records.append(record) }
        }
        var ok = true
        for name in options.files where !seen.contains(name) {
            Log.error("\(name) is not in the manifest \(options.manifest)")
            ok = false
        }
        let token = try AuthenticationFile.token(options.authenticationFile)
        let board = ProgressBoard(files: records.count, bytes: records.reduce(0) { $0 + ($1.size ?? 0) })
        if let folder = options.cacheFolder { try FileSystem.makeDirectories(folder) }
        let cache = try options.cacheFolder.map { folder throws(ClientError) in
            try Cache(folder: folder, verifyCache: options.verifyCache)
        }
        let fetcher = FileFetcher(
            urls: options.urls, token: token,
            policy: RetryPolicy(retries: options.retries, baseMilliseconds: options.retryBaseMilliseconds),
            cache: cache, board: board)
        for folder in Set(
            records.map { FileSystem.directory(of: $0.filename) } + (options.cacheFolder.map { [$0] } ?? []))
        {
            let removed = FileSystem.removeAbandonedTemporaryFiles(in: folder)
            if removed > 0 { Log.info("removed \(removed) temp file(s) left in \(folder) by an interrupted fetch") }
        }
        let failed = Mutex<[String]>([])
        let notUnpacked = Mutex<[(name: String, refused: Bool, reason: String)]>([])
        let display = board.startDisplay()
        let timeout = options.timeout
        let caBundle = options.caBundle
        // Largest first: a big file taken last would run alone at the end while the other workers sit idle
        // (with 64 files of 1 MiB and one of 256 MiB, that was most of a warm fetch's verification time).
        let selected = records.enumerated().sorted {
            ($0.element.size ?? 0, $1.offset) > ($1.element.size ?? 0, $0.offset)
        }
        .map(\.element)
        Threads.forEach(
            count: records.count, width: options.jobs,
            setUp: { try? CurlEasy(timeout: timeout, caBundle: caBundle) }
        ) { index, easy in
            let name = selected[index].filename
            switch fetcher.fetch(selected[index], easy: easy) {
            case .done: break
            case .failed: failed.withLock { $0.append(name) }
            case .unpackRefused(let reason): notUnpacked.withLock { $0.append((name, true, reason)) }
            case .unpackFailed(let reason): notUnpacked.withLock { $0.append((name, false, reason)) }
            }
        }
        cache?.finish()
        board.stopDisplay(display)
        Log.info(board.summary())
        let failures = failed.withLock { $0 }
        if !failures.isEmpty {
            Log.error("failed to fetch: \(failures.sorted().joined(separator: ", "))")
            ok = false
        }
        // Not a failed download: say that the file is there and verified, and why it was not unpacked.
        for (name, refused, reason) in notUnpacked.withLock({ $0 }).sorted(by: { $0.name < $1.name }) {
            Log.error(
                "unpack \(refused ? "refused" : "failed"): \(name): \(reason) "
                    + "(\(name) is present and verified\(refused ? "; nothing of it was unpacked" : ""))")
            ok = false
        }
        return ok
    }
}
