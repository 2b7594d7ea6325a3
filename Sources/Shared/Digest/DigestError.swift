/// Why a digest string or a digest computation was refused.
public enum DigestError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The algorithm name is not one we accept.
    case unsupportedAlgorithm(String)
    /// The digest has the wrong number of characters.
    case wrongLength(expected: Int, got: Int)
    /// The digest has a character that is not lowercase hex; `index` is its 0-based position.
    case invalidCharacter(index: Int, character: Character)
    /// Reading the input failed.
    case io(path: String, errno: Int32)

    public var description: String {
        switch self {
        case .unsupportedAlgorithm(let name):
            return "algorithm must be sha512, got \(name.debugDescription)"
        case .wrongLength(let expected, let got):
            return "digest must be \(expected) lowercase hex characters, got \(got)"
        case .invalidCharacter(let index, let character):
            let kind = character.isHexDigit ? "uppercase hex" : "not hex"
            return "digest must be lowercase hex, got \(character.debugDescription) (\(kind)) at position \(index)"
        case .io(let path, let errno):
            return "cannot read \(path): \(String(cString: strerror(errno)))"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
