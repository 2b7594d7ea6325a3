import COpenSSL

/// Why a certificate and key could not be loaded or a TLS context made: says which file and what OpenSSL said.
public struct TLSError: Error, CustomStringConvertible {
    /// What went wrong, in a sentence.
    public var message: String

    /// An error with `message`.
    public init(_ message: String) { self.message = message }

    /// `message`, then the reasons OpenSSL queued on this thread (emptying its error queue).
    static func openSSL(_ message: String) -> TLSError {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            var text = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &text, text.count)
            reasons.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return TLSError(reasons.isEmpty ? message : message + " (" + reasons.joined(separator: "; ") + ")")
    }

    /// The message.
    public var description: String { message }
}
