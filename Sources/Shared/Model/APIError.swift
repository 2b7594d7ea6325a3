/// The body every HTTP error carries: `{"error": {"name": "DigestMismatch", "description": "..."}}`.
///
/// tooltool.py prints `error.description` when the response's Content-Type is exactly `application/json`.
public struct APIError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A stable machine-readable name, e.g. `DigestMismatch`, `NotFound`, `Unauthorized`.
    public let name: String
    /// A sentence for people: what was expected and what was got.
    public let description: String

    public init(name: String, description: String) {
        self.name = name
        self.description = description
    }

    /// An error this project's server sends.
    public init(name: APIErrorName, description: String) {
        self.init(name: name.rawValue, description: description)
    }

    /// The name as one this project's server sends; nil for another server's own names.
    public var knownName: APIErrorName? { APIErrorName(rawValue: name) }

    /// The body as JSON.
    public var json: JSONValue {
        ["error": ["name": .string(name), "description": .string(description)]]
    }

    /// The body as compact JSON text.
    public var body: String { JSONWriter.write(json) }

    /// Reads an error body; nil when `bytes` is not one.
    public init?(body bytes: some Collection<UInt8>) {
        guard let value = try? JSONParser.parse(bytes),
            let name = value["error"]?["name"]?.stringValue,
            let description = value["error"]?["description"]?.stringValue
        else { return nil }
        self.init(name: name, description: description)
    }
}
