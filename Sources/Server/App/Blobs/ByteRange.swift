/// The one byte range a `Range` header asks for, resolved against a file's size.
enum ByteRange: Equatable {
    /// No usable Range header (absent, or a unit other than bytes): send the whole file.
    case whole
    /// Send `first...last` (inclusive).
    case partial(first: Int64, last: Int64)
    /// The range starts past the end: 416.
    case unsatisfiable
    /// Malformed, or more than one range: 400 with `reason`.
    case invalid(reason: String)

    /// Parses `bytes=a-b`, `bytes=a-` or `bytes=-n` for a file of `size` bytes.
    static func parse(_ header: String?, size: Int64) -> ByteRange {
        guard let header else { return .whole }
        let trimmed = header.trimmingWhitespace()
        guard let equals = trimmed.firstIndex(of: "=") else { return .invalid(reason: "Range must look like bytes=first-last") }
        guard trimmed[..<equals].lowercased() == "bytes" else { return .whole }
        let spec = trimmed[trimmed.index(after: equals)...].trimmingWhitespace()
        if spec.contains(",") { return .invalid(reason: "only one byte range per request is supported") }
        guard let dash = spec.firstIndex(of: "-") else { return .invalid(reason: "Range must look like bytes=first-last") }
        let firstText = spec[..<dash], lastText = spec[spec.index(after: dash)...]
        func number(_ text: Substring) -> Int64? {
            guard !text.isEmpty, text.count <= 18, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int64(text)
        }
        if firstText.isEmpty {
            guard let suffix = number(lastText) else { return .invalid(reason: "Range suffix must be a number of bytes") }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .partial(first: max(0, size - suffix), last: size - 1)
        }
        guard let first = number(firstText) else { return .invalid(reason: "Range start must be a number") }
        var last = size - 1
        if !lastText.isEmpty {
            guard let given = number(lastText) else { return .invalid(reason: "Range end must be a number") }
            guard given >= first else { return .invalid(reason: "Range end \(given) is before its start \(first)") }
            last = min(given, size - 1)
        }
        guard first < size else { return .unsatisfiable }
        return .partial(first: first, last: last)
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingWhitespace() -> Substring {
        var text = Substring(self)
        while let c = text.first, c == " " || c == "\t" { text.removeFirst() }
        while let c = text.last, c == " " || c == "\t" { text.removeLast() }
        return text
    }
}
