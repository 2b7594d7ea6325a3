/// An HTTP version as sent in the request line; only 1.0 and 1.1 get past the layer.
public struct HTTPVersion: Sendable, Equatable, CustomStringConvertible {
    /// Major number.
    public var major: Int
    /// Minor number.
    public var minor: Int

    /// The given version.
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// `HTTP/1.1`.
    public static let http11 = HTTPVersion(major: 1, minor: 1)
    /// `HTTP/1.0`.
    public static let http10 = HTTPVersion(major: 1, minor: 0)

    /// `HTTP/<major>.<minor>`.
    public var description: String { "HTTP/\(major).\(minor)" }
}
