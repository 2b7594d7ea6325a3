/// A validated content digest: an algorithm and its lowercase hex value.
///
/// The only way to make one from text is `init(parsing:algorithm:)`, so a `Digest` in hand is always
/// exactly `algorithm.hexLength` lowercase hex characters and safe to use as a file name.
public struct Digest: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// The algorithm that produced the value.
    public let algorithm: HashAlgorithm
    /// Lowercase hex, `algorithm.hexLength` characters.
    public let hex: String

    /// Parses a digest, accepting exactly `algorithm.hexLength` lowercase hex characters.
    public init(parsing text: some StringProtocol, algorithm: HashAlgorithm = .sha512) throws(DigestError) {
        let utf8 = text.utf8
        guard utf8.count == algorithm.hexLength else {
            throw DigestError.wrongLength(expected: algorithm.hexLength, got: text.count)
        }
        for (index, byte) in utf8.enumerated() where !Hex.isLowercaseHexDigit(byte) {
            throw DigestError.invalidCharacter(index: index, character: Character(Unicode.Scalar(byte)))
        }
        self.algorithm = algorithm
        self.hex = String(text)
    }

    /// Makes a digest from raw bytes (as a hasher returns them).
    public init(bytes: [UInt8], algorithm: HashAlgorithm = .sha512) {
        precondition(bytes.count == algorithm.byteCount, "digest of \(algorithm) must be \(algorithm.byteCount) bytes")
        self.algorithm = algorithm
        self.hex = Hex.encode(bytes)
    }

    public var description: String { hex }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.hex < rhs.hex }
}
