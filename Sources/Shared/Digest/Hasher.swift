import COpenSSL

/// A streaming digest over OpenSSL's EVP interface: feed any number of chunks, then `finish()`.
///
/// Not thread-safe: one owner feeds it. Memory does not grow with the input.
public final class StreamingHasher {
    /// The algorithm being computed.
    public let algorithm: HashAlgorithm
    private let context: OpaquePointer
    private var finished = false

    /// Starts a new digest computation.
    public init(algorithm: HashAlgorithm = .sha512) {
        self.algorithm = algorithm
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new: out of memory") }
        self.context = context
        let md: OpaquePointer
        switch algorithm {
        case .sha512: md = Self.sha512.pointer
        }
        guard EVP_DigestInit_ex(context, md, nil) == 1 else { fatalError("EVP_DigestInit_ex failed for \(algorithm)") }
    }

    /// SHA-512 fetched from OpenSSL's providers once per process. With `EVP_sha512()` every `EVP_DigestInit_ex`
    /// fetched it again (about 16k instructions, what hashing 1 KiB costs; the client inits one per file).
    private static let sha512 = FetchedDigest(name: "SHA512", fallback: EVP_sha512())

    deinit { EVP_MD_CTX_free(context) }

    /// Adds bytes to the digest.
    public func update(_ buffer: UnsafeRawBufferPointer) {
        precondition(!finished, "StreamingHasher.update after finish")
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        guard EVP_DigestUpdate(context, base, buffer.count) == 1 else { fatalError("EVP_DigestUpdate failed") }
    }

    /// Adds bytes to the digest.
    public func update(_ bytes: some ContiguousBytes) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Ends the computation and returns the digest. The hasher cannot be fed afterwards.
    public func finish() -> Digest {
        precondition(!finished, "StreamingHasher.finish called twice")
        finished = true
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &out, &length) == 1 else { fatalError("EVP_DigestFinal_ex failed") }
        return Digest(bytes: Array(out.prefix(Int(length))), algorithm: algorithm)
    }

    /// One-shot digest of bytes in memory.
    public static func digest(of bytes: some ContiguousBytes, algorithm: HashAlgorithm = .sha512) -> Digest {
        let hasher = StreamingHasher(algorithm: algorithm)
        hasher.update(bytes)
        return hasher.finish()
    }
}

/// An `EVP_MD` fetched once and never freed (it lives as long as the process).
// @unchecked: the pointer is set once in `init` and never changes; OpenSSL's fetched `EVP_MD` objects are
// reference-counted, immutable and documented as safe to share between threads.
private final class FetchedDigest: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Fetches `name`; `fallback` (the legacy constant, fetched at each init) when the fetch fails.
    init(name: String, fallback: OpaquePointer) {
        pointer = EVP_MD_fetch(nil, name, nil) ?? fallback
    }
}

/// Memory-safe byte containers the hasher accepts.
public protocol ContiguousBytes {
    /// Calls `body` with the bytes.
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: ContiguousBytes where Element == UInt8 {}
extension ArraySlice: ContiguousBytes where Element == UInt8 {}
extension ContiguousArray: ContiguousBytes where Element == UInt8 {}
extension String: ContiguousBytes {
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var copy = self
        return try copy.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }
}
