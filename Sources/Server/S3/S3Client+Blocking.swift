import Dispatch
import Synchronization

extension S3Client {
    /// Runs an operation and waits for it: for worker threads and commands, never an event loop (nor the S3 loop,
    /// which would wait on itself).
    public func wait<T: Sendable>(
        _ operation: (@escaping @Sendable (Result<T, S3Error>) -> Void) -> Void
    ) throws(S3Error) -> T {
        precondition(!isOnLoopThread, "a blocking S3 call on the S3 loop's own thread would wait forever")
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<T, S3Error>?>(nil)
        operation { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }

    public func putObject(key: String, body: [UInt8], onlyIfAbsent: Bool = false) throws(S3Error) {
        try wait { putObject(key: key, body: body, onlyIfAbsent: onlyIfAbsent, completion: $0) }
    }

    public func headObject(key: String) throws(S3Error) -> S3ObjectInfo? {
        try wait { headObject(key: key, completion: $0) }
    }

    public func deleteObject(key: String) throws(S3Error) {
        try wait { deleteObject(key: key, completion: $0) }
    }

    public func copyObject(from source: String, to key: String) throws(S3Error) {
        try wait { copyObject(from: source, to: key, completion: $0) }
    }

    public func headBucket() throws(S3Error) {
        try wait { headBucket(completion: $0) }
    }

    public func listObjects(prefix: String, continuationToken: String?) throws(S3Error) -> S3ListPage {
        try wait { listObjects(prefix: prefix, continuationToken: continuationToken, completion: $0) }
    }

    public func createMultipartUpload(key: String) throws(S3Error) -> String {
        try wait { createMultipartUpload(key: key, completion: $0) }
    }

    public func uploadPart(key: String, uploadID: String, partNumber: Int, body: [UInt8]) throws(S3Error) -> String {
        try wait { uploadPart(key: key, uploadID: uploadID, partNumber: partNumber, body: body, completion: $0) }
    }

    public func uploadPartCopy(
        from source: String, range: ClosedRange<Int64>, key: String, uploadID: String,
        partNumber: Int
    ) throws(S3Error) -> String {
        try wait {
            uploadPartCopy(
                from: source, range: range, key: key, uploadID: uploadID, partNumber: partNumber, completion: $0)
        }
    }

    public func completeMultipartUpload(
        key: String, uploadID: String, parts: [S3CompletedPart],
        onlyIfAbsent: Bool = false
    ) throws(S3Error) {
        try wait {
            completeMultipartUpload(
                key: key, uploadID: uploadID, parts: parts, onlyIfAbsent: onlyIfAbsent, completion: $0)
        }
    }

    public func abortMultipartUpload(key: String, uploadID: String) throws(S3Error) {
        try wait { abortMultipartUpload(key: key, uploadID: uploadID, completion: $0) }
    }

    public func listMultipartUploads(prefix: String) throws(S3Error) -> [S3MultipartUpload] {
        try wait { listMultipartUploads(prefix: prefix, completion: $0) }
    }
}
