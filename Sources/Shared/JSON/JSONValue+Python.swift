/// How Python sees a value that `json.loads` produced, for reading manifests exactly as tooltool.py does.
extension JSONValue {
    /// Python's truthiness (`if value:`): null, false, 0, 0.0, "", [] and {} are false, everything else is true,
    /// including the strings "False" and "0".
    public var pythonTruth: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .double(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.isEmpty
        }
    }

    /// The value as an integer when Python's `==` would call it equal to one: an integer, a float with no fraction
    /// (`1024.0 == 1024`), or a boolean (`True == 1`). Nil for anything else.
    public var pythonIntegerValue: Int64? {
        switch self {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        case .double(let d):
            guard d.rounded() == d, d >= -9.2e18, d <= 9.2e18 else { return nil }
            return Int64(d)
        default: return nil
        }
    }
}
