import Shared

extension HTTPResponse {
    /// The JSON error body every error uses: `{"error": {"name": "...", "description": "..."}}`.
    public static func error(
        status: HTTPStatus, name: APIErrorName, description: String,
        closeConnection: Bool = false
    ) -> HTTPResponse {
        let text = "{\"error\": {\"name\": \(jsonString(name.rawValue)), \"description\": \(jsonString(description))}}"
        var response = json(status: status, text: text)
        response.closeConnection = closeConnection
        return response
    }

    /// `text` as a JSON string literal, quoted and escaped.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
