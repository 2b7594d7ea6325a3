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

    /// Number of body bytes, the `Content-Length`.
    public var count: Int64 {
        switch self {
        case .empty: return 0
        case .bytes(let bytes): return Int64(bytes.count)
        case .file(_, _, let length): return length
        }
    }

    /// Closes the file descriptor of a `.file` body that will not be sent.
    func discard() {
        if case .file(let fd, _, _) = self { close(fd) }
    }
}
