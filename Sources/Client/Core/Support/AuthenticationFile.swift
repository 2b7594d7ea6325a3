/// Reads the token named by `--authentication-file`.
enum AuthenticationFile {
    /// The file's content without surrounding whitespace; nil when no file was given.
    static func token(_ path: String?) throws(ClientError) -> String? {
        guard let path else { return nil }
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path) } catch {
            throw ClientError(.configuration, "cannot read the authentication file: \(error.message)")
        }
        let token = String(String(decoding: bytes, as: UTF8.self).trimmingWhitespace())
        guard !token.isEmpty else { throw ClientError(.configuration, "authentication file \(path) is empty") }
        guard !token.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" }) else {
            throw ClientError(.configuration, "authentication file \(path) must hold one line, got several")
        }
        return token
    }
}
