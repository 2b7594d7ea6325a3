import COpenSSL
import Glibc

/// What a non-blocking TLS call did.
enum TLSResult {
    /// Done: this many bytes read or written (0 for a finished handshake).
    case done(Int)
    /// Call again once the socket is readable.
    case wantRead
    /// Call again once the socket is writable.
    case wantWrite
    /// The peer ended the TLS session (close_notify) or the connection.
    case closed
    /// A protocol or socket error: the session is unusable.
    case failed
}

/// Owns one connection's OpenSSL `SSL` on its non-blocking socket (server side). Loop thread only.
///
/// The `SSL` keeps a reference to the `TLSContext` it was made from, so a reload that replaces the context leaves
/// this connection on its old certificate until it closes.
final class TLSSession {
    private let ssl: OpaquePointer
    /// True once the handshake finished.
    private(set) var established = false
    /// True once the first bytes were checked to be a TLS record (not a plain HTTP request).
    var checkedFirstByte = false
    /// An `SSL_read` needs the socket writable before it can go on.
    var readWantsWrite = false
    /// An `SSL_write` needs the socket readable before it can go on.
    var writeWantsRead = false
    /// True when kernel TLS took for sending: file bodies go out with `SSL_sendfile`.
    private(set) var kernelSend = false
    private var unusable = false, protocolError = false, closeNotifySent = false

    /// A session on `fd` (accepted, non-blocking) with `context`'s certificate and policy.
    init(context: TLSContext, fd: Int32) throws {
        guard let ssl = SSL_new(context.pointer) else {
            throw HTTPServerError(call: "SSL_new", message: "returned NULL")
        }
        self.ssl = ssl
        guard SSL_set_fd(ssl, fd) == 1 else { throw HTTPServerError(call: "SSL_set_fd", message: "failed") }
        SSL_set_accept_state(ssl)
    }

    /// Drives the handshake one step.
    func handshake() -> TLSResult {
        ERR_clear_error()
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            established = true
            kernelSend = BIO_ctrl(SSL_get_wbio(ssl), BIO_CTRL_GET_KTLS_SEND, 0, nil) != 0
            return .done(0)
        }
        return outcome(result)
    }

    /// Reads decrypted bytes into `buffer` (at most `count`).
    func read(into buffer: UnsafeMutableRawPointer, count: Int) -> TLSResult {
        ERR_clear_error()
        let n = SSL_read(ssl, buffer, Int32(clamping: count))
        return n > 0 ? .done(Int(n)) : outcome(n)
    }

    /// Encrypts and sends up to `count` bytes (one record at a time: partial writes are on). After `.wantWrite` or
    /// `.wantRead` call again with the same bytes (at least as many).
    func write(_ bytes: UnsafeRawPointer, count: Int) -> TLSResult {
        ERR_clear_error()
        let n = SSL_write(ssl, bytes, Int32(clamping: count))
        return n > 0 ? .done(Int(n)) : outcome(n)
    }

    /// Sends `count` bytes of `file` from `offset` through kernel TLS (only when `kernelSend`).
    func sendfile(_ file: Int32, offset: Int64, count: Int) -> TLSResult {
        ERR_clear_error()
        let n = SSL_sendfile(ssl, file, off_t(offset), count, 0)
        return n > 0 ? .done(Int(n)) : outcome(Int32(clamping: n))
    }

    /// Sends close_notify once (best effort: a full socket buffer drops it; the TCP close follows anyway).
    func sendCloseNotify() {
        guard established, !unusable, !closeNotifySent else { return }
        closeNotifySent = true
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// The connection is closing: sends close_notify when `notify` (and still possible), and marks the session as
    /// properly ended unless the peer broke the protocol. OpenSSL drops a session from the server cache when its
    /// `SSL` is freed without that mark, so a client that closes without close_notify (most HTTP clients) could
    /// never resume by session ID.
    func finish(notify: Bool) {
        guard established else { return }
        if notify { sendCloseNotify() }
        if !protocolError { SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN) }
    }

    /// Classifies a failed call's `result`.
    private func outcome(_ result: Int32) -> TLSResult {
        let error = SSL_get_error(ssl, result)
        switch error {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        default:
            unusable = true  // SSL_shutdown must not follow a fatal error
            protocolError = error == SSL_ERROR_SSL
            ERR_clear_error()
            return error == SSL_ERROR_SYSCALL && result == 0 ? .closed : .failed
        }
    }

    deinit { SSL_free(ssl) }
}
