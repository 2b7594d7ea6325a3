import COpenSSL
import Glibc

/// Owns one OpenSSL `SSL_CTX`: a certificate chain and its key, with the server's fixed TLS policy.
///
/// The policy: TLS 1.2 and 1.3 only; for 1.2 only ECDHE key exchange with AEAD ciphers (AES-GCM, ChaCha20-Poly1305),
/// the server's order preferred; 1.3's suites are all AEAD. No compression, no renegotiation, ALPN `http/1.1`.
/// Resumption: session tickets under `TLSTicketKeys` (rotating keys) and a server-side session cache (TLS 1.2
/// clients that do not take tickets), sessions good for `sessionLifetime` seconds.
///
/// `@unchecked Sendable`: the context is configured in `init` and never changed afterwards; OpenSSL makes `SSL_new`
/// on a configured context (and its session cache) safe from any thread. Each connection's `SSL` holds a reference
/// to the context, so one replaced by a reload lives on until its last connection closes.
final class TLSContext: @unchecked Sendable {
    /// The `SSL_CTX *`.
    let pointer: OpaquePointer
    /// True when `SSL_OP_ENABLE_KTLS` is set: connections try kernel TLS (used for `SSL_sendfile` when it took).
    let kernelTLS: Bool
    /// The certificate's subject and expiry, for the log.
    let summary: String

    /// Loads `certificateFile` (PEM: the certificate, then any intermediates) and `keyFile` (PEM). Fails when
    /// either cannot be read or parsed, the key does not match, or the certificate is expired or not yet valid.
    init(certificateFile: String, keyFile: String, kernelTLS: Bool, sessionLifetime: Int) throws(TLSError) {
        for (what, path) in [("certificate", certificateFile), ("key", keyFile)] {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                throw TLSError("cannot read the TLS \(what) file \(path): \(String(cString: strerror(errno)))")
            }
            close(fd)
        }
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw .openSSL("SSL_CTX_new failed") }
        do {
            summary = try Self.load(context, certificateFile: certificateFile, keyFile: keyFile)
            try Self.configure(context, kernelTLS: kernelTLS, sessionLifetime: sessionLifetime)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        pointer = context
        self.kernelTLS = kernelTLS
    }

    /// Loads and checks the certificate chain and key into `context`; returns the certificate's summary.
    private static func load(
        _ context: OpaquePointer, certificateFile: String, keyFile: String
    ) throws(TLSError) -> String {
        // The key first: a certificate that does not match it then drops it, and the check below says so plainly.
        guard SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1 else {
            throw .openSSL("cannot load the TLS key \(keyFile): not a PEM private key")
        }
        guard SSL_CTX_use_certificate_chain_file(context, certificateFile) == 1 else {
            throw .openSSL("cannot load the TLS certificate \(certificateFile): not a PEM certificate chain")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            ERR_clear_error()  // OpenSSL's reason ("no private key assigned") would only confuse
            throw TLSError("the TLS key \(keyFile) does not match the certificate \(certificateFile)")
        }
        guard let certificate = SSL_CTX_get0_certificate(context) else {
            throw .openSSL("no certificate in \(certificateFile)")
        }
        let notAfter = X509_get0_notAfter(certificate), notBefore = X509_get0_notBefore(certificate)
        let expiry = text(of: notAfter)
        guard X509_cmp_current_time(notAfter) > 0 else {
            throw TLSError("the TLS certificate \(certificateFile) expired on \(expiry)")
        }
        guard X509_cmp_current_time(notBefore) < 0 else {
            throw TLSError("the TLS certificate \(certificateFile) is not valid before \(text(of: notBefore))")
        }
        return "\(subject(of: certificate)), valid until \(expiry)"
    }

    /// Applies the policy described on the type.
    private static func configure(_ context: OpaquePointer, kernelTLS: Bool, sessionLifetime: Int) throws(TLSError) {
        guard SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil) == 1,
            SSL_CTX_ctrl(context, SSL_CTRL_SET_MAX_PROTO_VERSION, Int(TLS1_3_VERSION), nil) == 1
        else {
            throw .openSSL("cannot limit TLS to versions 1.2 and 1.3")
        }
        guard SSL_CTX_set_cipher_list(context, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL") == 1 else {
            throw .openSSL("cannot set the TLS 1.2 cipher suites")
        }
        // SSL_OP_BIT(n) does not import into Swift: the values are the header's bits 3, 7, 17, 22 and 30.
        // Ignore unexpected EOF: a client closing without close_notify (most HTTP clients) ends the session cleanly,
        // as before OpenSSL 3, instead of as a protocol error that also drops its session from the cache. HTTP's own
        // framing (Content-Length) tells a cut request from a whole one.
        let enableKernelTLS: UInt64 = 1 << 3, ignoreUnexpectedEOF: UInt64 = 1 << 7, noCompression: UInt64 = 1 << 17
        let serverPreference: UInt64 = 1 << 22, noRenegotiation: UInt64 = 1 << 30
        var options = noCompression | serverPreference | noRenegotiation | ignoreUnexpectedEOF
        if kernelTLS { options |= enableKernelTLS }
        SSL_CTX_set_options(context, options)
        // Partial writes: SSL_write returns after each record, so the output buffer drains as records leave. Moving
        // buffer: a retry after WANT_WRITE may pass the same bytes at another address. Release buffers: an idle
        // connection keeps no 16 KiB record buffers.
        let modes = SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS
        SSL_CTX_ctrl(context, SSL_CTRL_MODE, Int(modes), nil)
        SSL_CTX_ctrl(context, SSL_CTRL_SET_SESS_CACHE_MODE, Int(SSL_SESS_CACHE_SERVER), nil)
        SSL_CTX_ctrl(context, SSL_CTRL_SET_SESS_CACHE_SIZE, 20_000, nil)
        SSL_CTX_set_timeout(context, sessionLifetime)
        let sessionContext = Array("tooltool".utf8)
        SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))
        guard SSL_CTX_set_tlsext_ticket_key_evp_cb(context, TLSTicketKeys.callback) == 1 else {
            throw .openSSL("cannot install the session-ticket key callback")
        }
        SSL_CTX_set_alpn_select_cb(context, selectHTTP11, nil)
    }

    /// An ASN.1 time as OpenSSL prints it, e.g. `Jan  1 00:00:00 2030 GMT`.
    private static func text(of time: UnsafePointer<ASN1_TIME>?) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "?" }
        defer { BIO_free(bio) }
        guard ASN1_TIME_print(bio, time) == 1 else { return "?" }
        var buffer = [CChar](repeating: 0, count: 64)
        let n = BIO_read(bio, &buffer, Int32(buffer.count - 1))
        return n > 0 ? String(decoding: buffer[..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
    }

    /// The certificate's subject, one line (`CN=...`).
    private static func subject(of certificate: OpaquePointer) -> String {
        guard let name = X509_get_subject_name(certificate),
            let line = X509_NAME_oneline(name, nil, 0)
        else { return "?" }
        defer { CRYPTO_free(line, #file, #line) }
        return String(cString: line)
    }

    deinit { SSL_CTX_free(pointer) }
}

/// ALPN: picks `http/1.1` when the client offers it; otherwise goes on without ALPN (rather than an alert), since
/// HTTP/1.1 is all this server speaks.
private let selectHTTP11: SSL_CTX_alpn_select_cb_func = { _, out, outLength, offered, offeredLength, _ in
    guard let out, let outLength, let offered else { return SSL_TLSEXT_ERR_NOACK }
    let wanted = Array("http/1.1".utf8)
    var index = 0
    let total = Int(offeredLength)
    while index < total {
        let length = Int(offered[index])
        let start = index + 1
        if start + length > total { break }
        if length == wanted.count && memcmp(offered + start, wanted, length) == 0 {
            out.pointee = offered + start
            outLength.pointee = UInt8(length)
            return SSL_TLSEXT_ERR_OK
        }
        index = start + length
    }
    return SSL_TLSEXT_ERR_NOACK
}
