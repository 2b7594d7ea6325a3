/// What a `Range` header asks for, resolved against a file's size.
///
/// One range-spec is served as 206. Several (`bytes=0-1,5-6`, valid HTTP) are answered with the whole body, which
/// RFC 9110 section 14.2 allows (a server may ignore `Range`), when at least one of them is satisfiable; when none
/// is, 416. A malformed header, or a list with one malformed spec, is 400.
enum ByteRange: Equatable {
    /// No usable Range header (absent, a unit other than bytes, or several ranges): send the whole file.
    case whole
    /// Send `first...last` (inclusive).
    case partial(first: Int64, last: Int64)
    /// Every range starts past the end: 416.
    case unsatisfiable
    /// Malformed: 400 with `reason`.
    case invalid(reason: String)

    /// Parses `bytes=` and a list of `a-b`, `a-` or `-n` for a file of `size` bytes.
    static func parse(_ header: String?, size: Int64) -> ByteRange {
        guard let header else { return .whole }
        let trimmed = header.trimmingWhitespace()
        guard let equals = trimmed.firstIndex(of: "=") else {
            return .invalid(reason: "Range must look like bytes=first-last")
        }
        guard trimmed[..<equals].lowercased() == "bytes" else { return .whole }
        // A list (RFC 9110 section 5.6.1): empty elements and spaces around the commas are allowed.
        let specs = trimmed[trimmed.index(after: equals)...].split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        guard !specs.isEmpty else { return .invalid(reason: "Range must look like bytes=first-last") }
        if specs.count == 1 { return parse(spec: specs[0], size: size) }
        var satisfiable = false
        for spec in specs {
            switch parse(spec: spec, size: size) {
            case .invalid(let reason): return .invalid(reason: reason)
            case .partial: satisfiable = true
            case .whole, .unsatisfiable: break
            }
        }
        return satisfiable ? .whole : .unsatisfiable
    }

    /// One range-spec: `a-b`, `a-` or `-n`.
    private static func parse(spec: Substring, size: Int64) -> ByteRange {
        guard let dash = spec.firstIndex(of: "-") else {
            return .invalid(reason: "Range must look like bytes=first-last")
        }
        let firstText = spec[..<dash], lastText = spec[spec.index(after: dash)...]
        func number(_ text: Substring) -> Int64? {
            guard !text.isEmpty, text.count <= 18, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int64(text)
        }
        if firstText.isEmpty {
            guard let suffix = number(lastText) else {
                return .invalid(reason: "Range suffix must be a number of bytes")
            }
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
