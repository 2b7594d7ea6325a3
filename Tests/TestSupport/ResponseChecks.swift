import Foundation
import Shared

/// Helpers to read what the server answered.
extension RawHTTPResponse {
    /// The body parsed as JSON.
    public func json() throws -> JSONValue { try JSONParser.parse(body) }
    /// `error.name` of the shared JSON error body; nil also for a name that is not an `APIErrorName`.
    public var errorName: APIErrorName? {
        (try? json())?["error"]?["name"]?.stringValue.flatMap(APIErrorName.init(rawValue:))
    }
    /// `error.description` of the shared JSON error body.
    public var errorDescription: String? { (try? json())?["error"]?["description"]?.stringValue }
    /// True when this is the shared JSON error body with `Content-Type: application/json` exactly.
    public var isJSONError: Bool {
        header("Content-Type") == "application/json" && errorName != nil && !(errorDescription ?? "").isEmpty
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` seconds pass; returns its last value.
public func eventually(timeout: TimeInterval = 5, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(20_000)
    }
    return try condition()
}
