import FoundationEssentials

/// Just enough XML for S3's answers: the text of elements by name, in document order, entities decoded. S3's
/// answers are flat records (`<Upload><Key>..</Key><UploadId>..</UploadId></Upload>`), so `records` splits on a
/// repeated element and scans inside each.
struct XMLScan {
    private let text: String

    init(_ bytes: [UInt8]) { text = String(decoding: bytes, as: UTF8.self) }
    init(_ text: String) { self.text = text }

    /// The text of every `<name>...</name>`, in order.
    func all(_ name: String) -> [String] { insides(name).map(Self.decode) }

    /// The text of the first `<name>`.
    func first(_ name: String) -> String? { all(name).first }

    /// Each `<name>...</name>` element's inside, to scan on its own.
    func records(_ name: String) -> [XMLScan] { insides(name).map(XMLScan.init) }

    /// The raw inside of every `<name>...</name>`, in order.
    private func insides(_ name: String) -> [String] {
        var out: [String] = []
        var rest = text[...]
        let open = "<\(name)>", close = "</\(name)>"
        while let start = rest.firstRange(of: open) {
            guard let end = rest[start.upperBound...].firstRange(of: close) else { break }
            out.append(String(rest[start.upperBound..<end.lowerBound]))
            rest = rest[end.upperBound...]
        }
        return out
    }

    /// True when the document is an `<Error>` (S3 may send one with a 200 to CompleteMultipartUpload).
    var isError: Bool { text.contains("<Error>") }

    static func decode(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacing("&quot;", with: "\"").replacing("&apos;", with: "'")
            .replacing("&lt;", with: "<").replacing("&gt;", with: ">")
            .replacing("&#34;", with: "\"").replacing("&amp;", with: "&")
    }

    /// `text` with `& < > " '` escaped, for request bodies.
    static func escape(_ text: String) -> String {
        text.replacing("&", with: "&amp;").replacing("<", with: "&lt;")
            .replacing(">", with: "&gt;").replacing("\"", with: "&quot;")
            .replacing("'", with: "&apos;")
    }
}
