import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An S3 client over libcurl's multi interface on its own libevent loop (`CurlLoop`), signing with SigV4.
///
/// Every operation returns at once and completes on the loop thread (completions must not block). Each has a
/// blocking twin in `S3Client+Blocking.swift` for worker threads and commands. Answers worth retrying (500, 503
/// SlowDown, resets, stalls) are retried with exponential backoff and jitter, up to `maxAttempts`; a streamed GET
/// only until its first byte reached the receiver.
public final class S3Client: Sendable {
    public let configuration: S3Configuration
    private let signer: SigV4
    private let loop: CurlLoop
    /// The clock requests are signed with (tests fix it).
    private let clock: @Sendable () -> Int64

    public init(
        _ configuration: S3Configuration, clock: @escaping @Sendable () -> Int64 = { Int64(time(nil)) }
    ) throws(S3Error) {
        self.configuration = configuration
        signer = SigV4(credentials: configuration.credentials, region: configuration.region)
        loop = try CurlLoop()
        self.clock = clock
    }

    deinit { loop.stop() }

    /// Whether the caller runs on this client's S3 loop thread (completions do; they must not block).
    public var isOnLoopThread: Bool { loop.isCurrentThread }

    /// A request, signed afresh for each attempt.
    struct Request: Sendable {
        var method: RequestMethod
        var key: String
        var query: [(String, String)] = []
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        /// `SigV4.unsignedPayload` for bulk bodies, else the body's SHA-256.
        var payloadHash: String?
    }

    /// Sends `request` (retrying), collecting the answer.
    func send(_ request: Request, completion: @escaping @Sendable (Result<S3Response, S3Error>) -> Void) {
        attempt(request, number: 1, stream: nil, completion: completion)
    }

    /// What a streamed GET reports to.
    final class Stream: @unchecked Sendable {  // loop thread only
        let onHead: (Int, [(String, String)]) -> Void
        let onBytes: (UnsafeRawBufferPointer) -> Bool
        var transfer: CurlTransfer?
        var cancelled = false
        init(onHead: @escaping (Int, [(String, String)]) -> Void, onBytes: @escaping (UnsafeRawBufferPointer) -> Bool) {
            self.onHead = onHead
            self.onBytes = onBytes
        }
    }

    private func attempt(
        _ request: Request, number: Int, stream: Stream?,
        completion: @escaping @Sendable (Result<S3Response, S3Error>) -> Void
    ) {
        let (url, headers) = prepare(request)
        let transfer: CurlTransfer
        do {
            transfer = try CurlTransfer(
                method: request.method, url: url, headers: headers, body: request.body,
                timeouts: (configuration.connectTimeout, configuration.stallTimeout)
            ) { [self] result in
                if case .failure(let error) = result, error.isRetryable, number < configuration.maxAttempts,
                    !(stream?.transfer?.delivered ?? false), !(stream?.cancelled ?? false)
                {
                    let delay = configuration.firstBackoff * Double(1 << (number - 1)) * Double.random(in: 0.5...1.5)
                    loop.execute(after: delay) { [self] in
                        attempt(request, number: number + 1, stream: stream, completion: completion)
                    }
                    return
                }
                completion(result)
            }
        } catch {
            return completion(.failure(error))
        }
        if let stream {
            transfer.onHead = stream.onHead
            transfer.onBytes = stream.onBytes
        }
        let box = UncheckedBox(transfer)
        loop.execute { [loop] in
            if let stream {
                if stream.cancelled { return box.value.complete(.failure(.cancelled)) }
                stream.transfer = box.value
            }
            loop.start(box.value)
        }
    }

    /// The URL and the signed headers of one attempt.
    private func prepare(_ request: Request) -> (String, [(String, String)]) {
        let (scheme, host) = configuration.base
        let path = configuration.path(request.key)
        var headers = request.headers
        headers.append(("host", host))
        let hash = request.payloadHash ?? SigV4.sha256Hex(request.body)
        let signed = signer.sign(
            method: request.method, path: path, query: request.query, headers: headers,
            payloadHash: hash, time: clock())
        var url = "\(scheme)://\(host)\(SigV4.encode(path, keepSlash: true))"
        if !request.query.isEmpty { url += "?" + SigV4.canonicalQuery(request.query) }
        return (url, request.headers + signed)
    }

    // MARK: - Objects

    /// PutObject with the whole body. With `onlyIfAbsent` (`If-None-Match: *`) it fails with 412
    /// (`S3Error.isPreconditionFailed`) when the key already exists, and writes nothing.
    public func putObject(
        key: String, body: [UInt8], onlyIfAbsent: Bool = false,
        completion: @escaping @Sendable (Result<Void, S3Error>) -> Void
    ) {
        let headers = onlyIfAbsent ? [("if-none-match", "*")] : []
        send(Request(method: .put, key: key, headers: headers, body: body, payloadHash: SigV4.unsignedPayload)) {
            completion($0.map { _ in })
        }
    }

    /// HeadObject: size and ETag, nil when there is no such object.
    public func headObject(key: String, completion: @escaping @Sendable (Result<S3ObjectInfo?, S3Error>) -> Void) {
        send(Request(method: .head, key: key)) { result in
            switch result {
            case .success(let response):
                completion(
                    .success(
                        S3ObjectInfo(
                            key: key, size: Int64(response.header("content-length") ?? "") ?? 0,
                            etag: response.header("etag") ?? "")))
            case .failure(let error) where error.isNotFound: completion(.success(nil))
            case .failure(let error): completion(.failure(error))
            }
        }
    }

    /// DeleteObject (a missing object is not an error).
    public func deleteObject(key: String, completion: @escaping @Sendable (Result<Void, S3Error>) -> Void) {
        send(Request(method: .delete, key: key)) { result in
            if case .failure(let error) = result, !error.isNotFound { return completion(.failure(error)) }
            completion(.success(()))
        }
    }

    /// CopyObject within the bucket (up to 5 GiB; larger ones need `uploadPartCopy`).
    public func copyObject(
        from source: String, to key: String, completion: @escaping @Sendable (Result<Void, S3Error>) -> Void
    ) {
        let request = Request(method: .put, key: key, headers: [("x-amz-copy-source", copySource(source))])
        send(request) { result in completion(result.flatMap(Self.checkNoError)) }
    }

    /// HeadBucket: nil error when the bucket answers.
    public func headBucket(completion: @escaping @Sendable (Result<Void, S3Error>) -> Void) {
        send(Request(method: .head, key: "")) { completion($0.map { _ in }) }
    }

    /// A page of ListObjectsV2 under `prefix`.
    public func listObjects(
        prefix: String, continuationToken: String?,
        completion: @escaping @Sendable (Result<S3ListPage, S3Error>) -> Void
    ) {
        var query = [("list-type", "2"), ("prefix", prefix)]
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        send(Request(method: .get, key: "", query: query)) { result in
            completion(
                result.map { response in
                    let xml = XMLScan(response.body)
                    let objects = xml.records("Contents").map {
                        S3ObjectInfo(
                            key: $0.first("Key") ?? "", size: Int64($0.first("Size") ?? "") ?? 0,
                            etag: $0.first("ETag") ?? "")
                    }
                    let truncated = xml.first("IsTruncated") == "true"
                    return S3ListPage(objects: objects, nextToken: truncated ? xml.first("NextContinuationToken") : nil)
                })
        }
    }

    /// Streams `key` (or `range` of it) to `sink`, with back-pressure. See `S3DownloadSink`.
    @discardableResult
    public func getObject(key: String, range: ClosedRange<Int64>?, sink: any S3DownloadSink) -> S3Download {
        var request = Request(method: .get, key: key)
        if let range { request.headers.append(("range", "bytes=\(range.lowerBound)-\(range.upperBound)")) }
        let stream = Stream(
            onHead: { status, headers in
                sink.head(
                    status: status, contentLength: Int64(headers.first { $0.0 == "content-length" }?.1 ?? "") ?? -1)
            }, onBytes: { sink.bytes($0) == .proceed })
        let download = S3Download(loop: loop, stream: stream)
        attempt(request, number: 1, stream: stream) { result in
            switch result {
            case .success: sink.finished(.success(()))
            case .failure(let error): sink.finished(.failure(error))
            }
        }
        return download
    }

    /// A presigned GET URL for `key`, valid `expires` seconds from `now`.
    public func presignedGetURL(key: String, expires: Int, now: Int64? = nil) -> String {
        let (scheme, host) = configuration.base
        return signer.presign(
            endpoint: "\(scheme)://\(host)", host: host, path: configuration.path(key), expires: expires,
            time: now ?? clock())
    }

    // MARK: - Multipart

    /// CreateMultipartUpload: the upload id.
    public func createMultipartUpload(key: String, completion: @escaping @Sendable (Result<String, S3Error>) -> Void) {
        send(Request(method: .post, key: key, query: [("uploads", "")])) { result in
            completion(
                result.flatMap { response in
                    guard let id = XMLScan(response.body).first("UploadId"), !id.isEmpty else {
                        return .failure(.invalidResponse("CreateMultipartUpload answered without an UploadId"))
                    }
                    return .success(id)
                })
        }
    }

    /// UploadPart: the part's ETag.
    public func uploadPart(
        key: String, uploadID: String, partNumber: Int, body: [UInt8],
        completion: @escaping @Sendable (Result<String, S3Error>) -> Void
    ) {
        let request = Request(
            method: .put, key: key, query: [("partNumber", String(partNumber)), ("uploadId", uploadID)],
            body: body, payloadHash: SigV4.unsignedPayload)
        send(request) { result in
            completion(
                result.flatMap { response in
                    guard let etag = response.header("etag") else {
                        return .failure(.invalidResponse("UploadPart answered without an ETag"))
                    }
                    return .success(etag)
                })
        }
    }

    /// UploadPartCopy of `range` of `source` into part `partNumber`: the part's ETag.
    public func uploadPartCopy(
        from source: String, range: ClosedRange<Int64>, key: String, uploadID: String, partNumber: Int,
        completion: @escaping @Sendable (Result<String, S3Error>) -> Void
    ) {
        let request = Request(
            method: .put, key: key, query: [("partNumber", String(partNumber)), ("uploadId", uploadID)],
            headers: [
                ("x-amz-copy-source", copySource(source)),
                ("x-amz-copy-source-range", "bytes=\(range.lowerBound)-\(range.upperBound)")
            ])
        send(request) { result in
            completion(
                result.flatMap { response in
                    Self.checkNoError(response).flatMap {
                        guard let etag = XMLScan(response.body).first("ETag") else {
                            return .failure(.invalidResponse("UploadPartCopy answered without an ETag"))
                        }
                        return .success(etag)
                    }
                })
        }
    }

    /// CompleteMultipartUpload with every part, in order. With `onlyIfAbsent` (`If-None-Match: *`) it fails with
    /// 412 when the key already exists, and the upload stays open (to be aborted).
    public func completeMultipartUpload(
        key: String, uploadID: String, parts: [S3CompletedPart], onlyIfAbsent: Bool = false,
        completion: @escaping @Sendable (Result<Void, S3Error>) -> Void
    ) {
        var xml = "<CompleteMultipartUpload>"
        for part in parts {
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(XMLScan.escape(part.etag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let request = Request(
            method: .post, key: key, query: [("uploadId", uploadID)],
            headers: onlyIfAbsent ? [("if-none-match", "*")] : [], body: Array(xml.utf8))
        send(request) { result in completion(result.flatMap(Self.checkNoError)) }
    }

    /// AbortMultipartUpload (an upload already gone is not an error).
    public func abortMultipartUpload(
        key: String, uploadID: String, completion: @escaping @Sendable (Result<Void, S3Error>) -> Void
    ) {
        send(Request(method: .delete, key: key, query: [("uploadId", uploadID)])) { result in
            if case .failure(let error) = result, !error.isNotFound { return completion(.failure(error)) }
            completion(.success(()))
        }
    }

    /// Every multipart upload in progress under `prefix` (all pages).
    public func listMultipartUploads(
        prefix: String, completion: @escaping @Sendable (Result<[S3MultipartUpload], S3Error>) -> Void
    ) {
        listUploads(prefix: prefix, markers: nil, found: [], completion: completion)
    }

    private func listUploads(
        prefix: String, markers: (key: String, id: String)?, found: [S3MultipartUpload],
        completion: @escaping @Sendable (Result<[S3MultipartUpload], S3Error>) -> Void
    ) {
        var query = [("uploads", ""), ("prefix", prefix)]
        if let markers { query += [("key-marker", markers.key), ("upload-id-marker", markers.id)] }
        send(Request(method: .get, key: "", query: query)) { [self] result in
            switch result {
            case .failure(let error): completion(.failure(error))
            case .success(let response):
                let xml = XMLScan(response.body)
                let page = xml.records("Upload").map {
                    S3MultipartUpload(
                        key: $0.first("Key") ?? "", uploadID: $0.first("UploadId") ?? "",
                        initiated: S3Time.parse($0.first("Initiated") ?? "") ?? 0)
                }
                if xml.first("IsTruncated") == "true", let key = xml.first("NextKeyMarker"),
                    let id = xml.first("NextUploadIdMarker")
                {
                    listUploads(prefix: prefix, markers: (key, id), found: found + page, completion: completion)
                } else {
                    completion(.success(found + page))
                }
            }
        }
    }

    /// `bucket/key`, URI-encoded, for `x-amz-copy-source`.
    private func copySource(_ key: String) -> String { SigV4.encode("\(configuration.bucket)/\(key)", keepSlash: true) }

    /// A 200 whose body is an `<Error>` (CopyObject, UploadPartCopy and CompleteMultipartUpload can send one).
    private static func checkNoError(_ response: S3Response) -> Result<Void, S3Error> {
        let xml = XMLScan(response.body)
        guard xml.isError else { return .success(()) }
        return .failure(
            .service(status: 500, code: xml.first("Code") ?? "InternalError", message: xml.first("Message") ?? ""))
    }
}

/// Holds a non-Sendable value across one hop to the loop thread, where alone it is used.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
