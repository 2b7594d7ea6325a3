import Shared
import Synchronization

/// `tooltool upload --message M`: uploads the manifest's files as one batch through the server's upload API.
///
/// POST `/upload` with the batch, PUT each returned `put_url` streaming from disk (with `Content-Length`, never
/// chunked), confirm each with `/upload/complete/sha512/<digest>`, then print the batch id alone on stdout.
struct UploadCommand {
    /// The parsed command line.
    let options: Options

    /// Longest total wait for `upload/complete` answering 409, in seconds.
    static let completeDeadline = 600

    /// Uploads.
    func run() throws(ClientError) -> Bool {
        guard let message = options.message, !message.isEmpty else {
            throw ClientError(.configuration, "upload needs a batch message: --message M")
        }
        guard let base = options.urls.first else {
            throw ClientError(.configuration, "upload needs a server URL: --url URL or TOOLTOOL_URL")
        }
        let token = try AuthenticationFile.token(options.authenticationFile)
        let manifest = try ManifestFile.load(options.manifest)
        guard !manifest.records.isEmpty else {
            throw ClientError(.manifest, "\(options.manifest) has no records to upload")
        }
        // A `"size": null` record is sent with the size of its local file, which is checked against the digest below.
        let records = manifest.records.map { record in
            var sized = record
            if sized.size == nil, let info = FileSystem.status(record.filename) { sized.size = Int64(info.st_size) }
            return sized
        }
        var files: [(String, JSONValue)] = []
        var invalid: [String] = []
        for record in records where !files.contains(where: { $0.0 == record.filename }) {
            if let problem = LocalFileState.check(record, at: record.filename).problem(expected: record) {
                Log.error("\(record.filename) is not valid: \(problem)")
                invalid.append(record.filename)
                continue
            }
            if let kept = record.extra.first(where: { $0.0 == "visibility" })?.1 {
                throw ClientError(
                    .manifest,
                    "\(record.filename) has visibility \(JSONWriter.write(kept)) in the manifest: "
                        + "it must be \"public\" or \"internal\"")
            }
            guard let visibility = record.visibility ?? options.visibility else {
                throw ClientError(
                    .manifest, "\(record.filename) has no visibility: set it in the manifest or pass --visibility")
            }
            files.append(
                (
                    record.filename,
                    [
                        "size": .int(record.size ?? 0), "digest": .string(record.digest.hex),
                        "algorithm": .string(record.algorithm.rawValue),
                        "visibility": .string(visibility.rawValue)
                    ]
                ))
        }
        guard invalid.isEmpty else {
            throw ClientError(.verification, "cannot upload: not present and valid: \(invalid.joined(separator: ", "))")
        }

        let easy = try CurlEasy(timeout: options.timeout, caBundle: options.caBundle)
        let api = ServerAPI(baseURL: base, token: token, easy: easy)
        let answer = try api.call(.post, Routes.upload, json: ["message": .string(message), "files": .object(files)])
        guard answer.response.status == 200, let batch = answer.json["result"], let id = batch["id"] else {
            throw ServerAPI.failure("upload of the batch to \(base) failed", answer)
        }
        var puts: [(record: ManifestRecord, url: String)] = []
        for record in records {
            if let url = batch["files"]?[record.filename]?["put_url"]?.stringValue,
                !puts.contains(where: { $0.record.filename == record.filename })
            {
                puts.append((record, url))
            }
        }
        Log.info("batch \(JSONWriter.write(id)) created; \(puts.count) of \(files.count) files to send")
        try send(puts)
        for put in puts { try complete(put.record.digest, api: api) }
        Terminal.shared.writeOutput(JSONWriter.write(id) + "\n")
        return true
    }

    /// PUTs every file to its signed URL, `-j` at a time.
    private func send(_ puts: [(record: ManifestRecord, url: String)]) throws(ClientError) {
        let errors = Mutex<[String]>([])
        let timeout = options.timeout
        let caBundle = options.caBundle
        Threads.forEach(
            count: puts.count, width: options.jobs,
            setUp: { try? CurlEasy(timeout: timeout, caBundle: caBundle) }
        ) { index, easy in
            let (record, url) = puts[index]
            do throws(ClientError) {
                guard let easy else { throw ClientError(.network, "no HTTP handle available") }
                var request = HTTPRequest(url: url)
                request.method = .put
                request.body = .file(path: record.filename, size: record.size ?? 0)
                request.headers.append("Content-Type: application/octet-stream")
                let sink = MemorySink(limit: 1 << 20)
                switch try easy.perform(request, sink: sink) {
                case .failure(let error):
                    throw ClientError(.network, error.message)
                case .success(let response) where (200..<300).contains(response.status):
                    Log.info("\(record.filename): uploaded (\(ProgressBoard.bytes(record.size ?? 0)))")
                case .success(let response):
                    let detail = APIError(body: sink.bytes).map { ": \($0.description)" } ?? ""
                    throw ClientError(.network, "HTTP \(response.status)\(detail)")
                }
            } catch {
                Log.error("\(record.filename): upload failed: \(error.message)")
                errors.withLock { $0.append(record.filename) }
            }
        }
        let failed = errors.withLock { $0 }
        if !failed.isEmpty { throw ClientError(.network, "failed to upload: \(failed.joined(separator: ", "))") }
    }

    /// Confirms one upload, waiting while the server answers 409 with `X-Retry-After`.
    private func complete(_ digest: Digest, api: ServerAPI) throws(ClientError) {
        var waited = 0
        while true {
            let answer = try api.call(.get, Routes.uploadComplete(digest))
            if (200..<300).contains(answer.response.status) { return }
            guard answer.response.status == 409, waited < UploadCommand.completeDeadline else {
                throw ServerAPI.failure("confirming the upload of \(digest.hex.prefix(16))... failed", answer)
            }
            let seconds = max(1, RetryPolicy.parseRetryAfter(answer.response.header("X-Retry-After")) ?? 1)
            Log.debug("upload of \(digest.hex.prefix(16))... still in flight; asking again in \(seconds) s")
            RetryPolicy.sleep(milliseconds: seconds * 1000)
            waited += seconds
        }
    }
}
