/// A content digest algorithm. An enum so another can be added later; `sha512` is the only one accepted today.
public enum HashAlgorithm: String, Sendable, CaseIterable, Codable {
    case sha512

    /// Length of a digest in bytes.
    public var byteCount: Int {
        switch self {
        case .sha512: return 64
        }
    }

    /// Length of a digest in lowercase hex characters.
    public var hexLength: Int { byteCount * 2 }

    /// Parses an algorithm name as it appears in manifests and URLs (`sha512`).
    public init(name: String) throws(DigestError) {
        guard let algorithm = HashAlgorithm(rawValue: name) else {
            throw DigestError.unsupportedAlgorithm(name)
        }
        self = algorithm
    }
}
