#if canImport(Glibc)
import Glibc
#endif

/// An object's key, size and ETag.
public struct S3ObjectInfo: Sendable, Equatable {
    public let key: String
    public let size: Int64
    public let etag: String
}

/// One page of a listing; `nextToken` continues it.
public struct S3ListPage: Sendable {
    public let objects: [S3ObjectInfo]
    public let nextToken: String?
}

/// A part of a multipart upload, as CompleteMultipartUpload wants it.
public struct S3CompletedPart: Sendable, Equatable {
    public let number: Int
    public let etag: String
    public init(number: Int, etag: String) {
        self.number = number
        self.etag = etag
    }
}

/// A multipart upload in progress.
public struct S3MultipartUpload: Sendable, Equatable {
    public let key: String
    public let uploadID: String
    /// When it began, in Unix seconds.
    public let initiated: Int64
}

/// What a streamed GET's sink says after taking some bytes.
public enum S3SinkDecision: Sendable {
    case proceed
    /// Pause the transfer until `S3Download.resume()`.
    case pause
}

/// Receives a streamed GET. Calls come from the S3 loop thread, one at a time: `head` once for a 2xx answer,
/// `bytes` for each piece, then `finished` exactly once (a non-2xx answer goes straight to `finished` with its error).
public protocol S3DownloadSink: AnyObject, Sendable {
    func head(status: Int, contentLength: Int64)
    /// The bytes are taken either way; `.pause` stops the transfer until `resume()`.
    func bytes(_ bytes: UnsafeRawBufferPointer) -> S3SinkDecision
    func finished(_ result: Result<Void, S3Error>)
}

/// A streamed GET in progress; any thread may resume or cancel it.
public final class S3Download: Sendable {
    private let loop: CurlLoop
    private let stream: UncheckedBox<S3Client.Stream>

    init(loop: CurlLoop, stream: S3Client.Stream) {
        self.loop = loop
        self.stream = UncheckedBox(stream)
    }

    /// Goes on after the sink said `.pause` (harmless otherwise).
    public func resume() {
        let stream = self.stream
        loop.execute { stream.value.transfer?.resume() }
    }

    /// Stops the transfer; the sink hears `finished(.failure(.cancelled))` unless it finished already.
    public func cancel() {
        let stream = self.stream, loop = self.loop
        loop.execute {
            stream.value.cancelled = true
            if let transfer = stream.value.transfer { loop.finish(transfer, .cancelled) }
        }
    }
}

/// S3's ISO 8601 times (`2026-12-04T02:13:35.000Z`).
enum S3Time {
    static func parse(_ text: String) -> Int64? {
        let digits = text.split { !$0.isNumber }.map { Int32($0) ?? 0 }
        guard digits.count >= 6 else { return nil }
        var parts = tm()
        parts.tm_year = digits[0] - 1900
        parts.tm_mon = digits[1] - 1
        parts.tm_mday = digits[2]
        parts.tm_hour = digits[3]
        parts.tm_min = digits[4]
        parts.tm_sec = digits[5]
        return Int64(timegm(&parts))
    }
}
