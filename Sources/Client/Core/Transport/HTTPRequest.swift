import Shared

/// One HTTP request as the client sends it. Plain values only: no libcurl types leave the Transport folder.
struct HTTPRequest: Sendable {
    /// What goes in the request body.
    enum Body: Sendable {
        /// No body.
        case none
        /// Bytes held in memory (JSON).
        case bytes([UInt8])
        /// A file streamed from disk with `Content-Length: size` (never chunked).
        case file(path: String, size: Int64)
    }

    /// `GET`, `POST`, `PUT`, `PATCH`.
    var method = HTTPMethod.get
    /// The absolute URL.
    var url: String
    /// Extra header lines, `Name: value`.
    var headers: [String] = []
    /// The body.
    var body: Body = .none
    /// Sent as `Authorization: Bearer ...`; libcurl drops it when a redirect leaves the original host and port.
    var bearerToken: String?
    /// When above 0, asks for the rest of the resource with `Range: bytes=N-`.
    var rangeStart: Int64 = 0
}

/// The status and headers of the final response (after redirects).
struct HTTPResponse: Sendable {
    /// The status code.
    var status: Int
    /// Header fields in order, names as sent.
    var headers: [(String, String)]

    /// The first value of header `name`, case-insensitively.
    func header(_ name: String) -> String? {
        headers.first { Self.sameName($0.0, name) }?.1
    }

    /// True when two header names are equal ignoring ASCII case (HTTP field names are ASCII), with no allocation.
    static func sameName(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8) { x, y in
            x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= 0x61 && (x | 0x20) <= 0x7A)
        }
    }
}

/// A failure below HTTP: no connection, a timeout, a cut, or an abort asked for by the body sink.
struct TransportError: Error, Sendable, CustomStringConvertible {
    /// The broad kind, which decides whether a retry makes sense.
    enum Kind: Sendable {
        /// Could not connect or resolve.
        case connect
        /// The connect or stall timeout fired.
        case timeout
        /// The connection broke mid-transfer (short body, reset).
        case broken
        /// The body sink refused the data (size or range mismatch, disk error).
        case aborted
        /// The server's certificate did not verify (unknown CA, another host name, expired, revoked): not a network
        /// fault, so never retried on that server.
        case certificate
        /// The CA file to trust could not be read or holds no certificate: not retried.
        case caFile
        /// The server does not speak TLS we accept (a plain HTTP port, no common protocol version or cipher suite):
        /// not retried.
        case tlsHandshake
        /// Anything else libcurl reported.
        case other

        /// True for the faults another attempt may cure; false for the TLS failures that come again on every try.
        var isRetryable: Bool {
            switch self {
            case .certificate, .caFile, .tlsHandshake: return false
            case .connect, .timeout, .broken, .aborted, .other: return true
            }
        }
    }

    /// The kind.
    let kind: Kind
    /// libcurl's message (or the sink's reason).
    let message: String

    var description: String { message }
}

/// Receives a response as it arrives. Called on the thread running the transfer only.
protocol ResponseSink: AnyObject {
    /// Called when the final response's headers are complete (not for 1xx or followed redirects).
    /// Returning false aborts the transfer.
    func responseStarted(_ response: HTTPResponse) -> Bool
    /// Called with each piece of the final response's body. Returning false aborts the transfer.
    func received(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// Why the sink aborted, when it did.
    var abortReason: String? { get }
}

/// A sink that keeps up to `limit` bytes of any response in memory (JSON answers, error bodies).
final class MemorySink: ResponseSink {
    /// The bytes received so far.
    private(set) var bytes: [UInt8] = []
    /// The most kept.
    let limit: Int
    /// Set when the body went over `limit`.
    private(set) var abortReason: String?

    /// Makes a sink keeping at most `limit` bytes.
    init(limit: Int = 16 << 20) { self.limit = limit }

    func responseStarted(_ response: HTTPResponse) -> Bool {
        bytes.removeAll()
        return true
    }

    func received(_ buffer: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count + buffer.count <= limit else {
            abortReason = "response body larger than \(limit) bytes"
            return false
        }
        bytes.append(contentsOf: buffer)
        return true
    }
}
