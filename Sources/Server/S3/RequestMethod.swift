/// The method of a request this module sends: S3's five as constants, any other by name (the mirror's proxy passes
/// on whatever method it was sent). A value, not tooltool's `HTTPMethod`: `S3` knows nothing of tooltool.
public struct RequestMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// `GET`.
    public static let get = RequestMethod(rawValue: "GET")
    /// `HEAD`.
    public static let head = RequestMethod(rawValue: "HEAD")
    /// `PUT`.
    public static let put = RequestMethod(rawValue: "PUT")
    /// `POST`.
    public static let post = RequestMethod(rawValue: "POST")
    /// `DELETE`.
    public static let delete = RequestMethod(rawValue: "DELETE")

    /// The method as it is spelled on the wire, e.g. `GET`.
    public let rawValue: String

    /// The method spelled `rawValue` (case-sensitive, as HTTP methods are).
    public init(rawValue: String) { self.rawValue = rawValue }

    /// `rawValue`.
    public var description: String { rawValue }
}
