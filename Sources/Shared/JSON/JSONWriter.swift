/// Writes JSON the way Python's `json.dumps` does, so our manifests are byte-identical to tooltool's.
///
/// `pretty` is `json.dumps(v, indent=2, separators=(",", ": "))`; `compact` is `separators=(",", ":")`.
/// Both escape non-ASCII as `\uXXXX` (lowercase hex, surrogate pairs above the BMP), like `ensure_ascii=True`.
public enum JSONWriter {
    /// The layout of the output.
    public enum Style: Sendable {
        /// Two-space indent, `", "` never at a line end, `": "` between key and value.
        case pretty
        /// No whitespace at all.
        case compact
    }

    /// Serialises `value`; no trailing newline.
    public static func write(_ value: JSONValue, style: Style = .compact) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, style: style, level: 0, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func newline(_ level: Int, _ out: inout [UInt8]) {
        out.append(0x0a)
        out.append(contentsOf: repeatElement(0x20, count: level * 2))
    }

    private static func write(_ value: JSONValue, style: Style, level: Int, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): out.append(contentsOf: pythonRepr(d).utf8)
        case .string(let s): writeString(s, into: &out)
        case .array(let elements):
            if elements.isEmpty { out.append(contentsOf: "[]".utf8); return }
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if style == .pretty { newline(level + 1, &out) }
                write(element, style: style, level: level + 1, into: &out)
            }
            if style == .pretty { newline(level, &out) }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            if members.isEmpty { out.append(contentsOf: "{}".utf8); return }
            out.append(UInt8(ascii: "{"))
            for (i, (key, member)) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if style == .pretty { newline(level + 1, &out) }
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                if style == .pretty { out.append(0x20) }
                write(member, style: style, level: level + 1, into: &out)
            }
            if style == .pretty { newline(level, &out) }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func appendUnicodeEscape(_ unit: UInt16, into out: inout [UInt8]) {
        out.append(contentsOf: "\\u".utf8)
        out.append(hexDigits[Int(unit >> 12 & 0xf)])
        out.append(hexDigits[Int(unit >> 8 & 0xf)])
        out.append(hexDigits[Int(unit >> 4 & 0xf)])
        out.append(hexDigits[Int(unit & 0xf)])
    }

    private static func writeString(_ string: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out.append(contentsOf: "\\\"".utf8)
            case "\\": out.append(contentsOf: "\\\\".utf8)
            case "\n": out.append(contentsOf: "\\n".utf8)
            case "\r": out.append(contentsOf: "\\r".utf8)
            case "\t": out.append(contentsOf: "\\t".utf8)
            case "\u{08}": out.append(contentsOf: "\\b".utf8)
            case "\u{0C}": out.append(contentsOf: "\\f".utf8)
            default:
                if scalar.value < 0x20 || scalar.value > 0x7e {
                    for unit in String(scalar).utf16 { appendUnicodeEscape(unit, into: &out) }
                } else {
                    out.append(UInt8(scalar.value))
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Python's `repr(float)`: shortest round-trip digits, `1.0` not `1`, exponents as `1e+20` and `1e-05`.
    static func pythonRepr(_ value: Double) -> String {
        let text = "\(value)"
        guard let e = text.firstIndex(of: "e") else { return text }
        var mantissa = text[..<e]
        if mantissa.hasSuffix(".0") { mantissa = mantissa.dropLast(2) }
        var exponent = text[text.index(after: e)...]
        let sign = exponent.first == "-" ? "-" : "+"
        while let first = exponent.first, first == "-" || first == "+" { exponent = exponent.dropFirst() }
        return mantissa + "e" + sign + (exponent.count < 2 ? "0" : "") + exponent
    }
}
