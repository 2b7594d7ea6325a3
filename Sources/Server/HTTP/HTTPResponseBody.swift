import Glibc

/// What follows a response's head.
public enum HTTPResponseBody: Sendable {
    /// No body (`Content-Length: 0`).
    case empty
    /// These bytes.
    case bytes([UInt8])
    /// `length` bytes of an open file from `offset`, sent with sendfile. The layer owns `fd` from then on and closes
    /// it in every case (also for HEAD, on errors, and when the connection is already gone).
    case file(fd: Int32, offset: Int64, length: Int64)
    /// `length` bytes that `source` writes while the response goes out (see `HTTPBodySource`). Should the source
    /// end early or fail, the connection closes: the client sees a body shorter than its `Content-Length`.
    case stream(any HTTPBodySource, length: Int64)

    /// Number of body bytes, the `Content-Length`.
    public var count: Int64 {
        switch self {
        case .empty: return 0
        case .bytes(let bytes): return Int64(bytes.count)
        case .file(_, _, let length): return length
        case .stream(_, let length): return length
        }
    }

    /// Closes the file descriptor of a `.file` body, or cancels the source of a `.stream`, that will not be sent.
    func discard() {
        switch self {
        case .file(let fd, _, _): close(fd)
        case .stream(let source, _): source.cancel()
        case .empty, .bytes: break
        }
    }
}
