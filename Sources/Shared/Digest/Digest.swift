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
        try self.init(validating: String(text), algorithm: algorithm)
    }

    /// `init(parsing:algorithm:)` for a `Substring`, as a blob route's path gives it (no generic code between
    /// modules on the hot path).
    public init(parsing text: Substring, algorithm: HashAlgorithm = .sha512) throws(DigestError) {
        try self.init(validating: String(text), algorithm: algorithm)
    }

    /// Keeps `hex` when it is exactly `algorithm.hexLength` lowercase hex characters.
    ///
    /// It runs once per blob request, so the text is checked eight bytes at a time (`Hex.allLowercaseHexDigits`);
    /// only a bad digest is walked byte by byte, to say where it went wrong.
    private init(validating hex: String, algorithm: HashAlgorithm) throws(DigestError) {
        var hex = hex
        let expected = algorithm.hexLength
        let bad: (index: Int, byte: UInt8)?? = hex.withUTF8 { utf8 in
            guard utf8.count == expected else { return .some(nil) }
            if Hex.allLowercaseHexDigits(utf8) { return nil }
            for index in 0..<utf8.count where !Hex.isLowercaseHexDigit(utf8[index]) { return (index, utf8[index]) }
            return nil
        }
        switch bad {
        case nil:
            break
        case .some(nil):
            throw DigestError.wrongLength(expected: expected, got: hex.count)
        case .some(.some(let bad)):
            throw DigestError.invalidCharacter(index: bad.index, character: Character(Unicode.Scalar(bad.byte)))
        }
        self.algorithm = algorithm
        self.hex = hex
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
