import COpenSSL

/// Small OpenSSL helpers for tokens and signed URLs: random bytes, SHA-256, HMAC-SHA256, constant-time compare.
public enum Crypto {
    /// Cryptographically strong random bytes.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&out, Int32(count)) == 1 else { fatalError("RAND_bytes failed") }
        return out
    }

    /// SHA-256 of bytes (a bearer token's, on every authenticated request: see `tt_sha256`).
    public static func sha256(_ bytes: some ContiguousBytes) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { out, count in
            bytes.withUnsafeBytes { buffer in tt_sha256(buffer.baseAddress, buffer.count, out.baseAddress) }
            count = 32
        }
    }

    /// HMAC-SHA256 of `message` under `key`.
    public static func hmacSHA256(key: [UInt8], message: some ContiguousBytes) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let result = message.withUnsafeBytes { buffer in
            key.withUnsafeBufferPointer { keyBuffer in
                HMAC(
                    EVP_sha256(), keyBuffer.baseAddress, Int32(keyBuffer.count),
                    buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), buffer.count, &out, &length)
            }
        }
        guard result != nil else { fatalError("HMAC(sha256) failed") }
        return out
    }

    /// Compares two byte strings in time that depends only on their lengths.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in CRYPTO_memcmp(pa.baseAddress, pb.baseAddress, a.count) == 0 }
        }
    }
}
