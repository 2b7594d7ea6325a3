/// Header fields in the order they were sent or added; names compare case-insensitively (ASCII).
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    /// The fields as (name, value) pairs, in order.
    public private(set) var fields: [(name: String, value: String)]

    /// No fields.
    public init() { fields = [] }

    /// The given fields, in order.
    public init(_ pairs: [(String, String)]) { fields = pairs.map { (name: $0.0, value: $0.1) } }

    /// The literal's fields, in order.
    public init(dictionaryLiteral elements: (String, String)...) { self.init(elements) }

    /// The first value of `name`, or nil.
    public subscript(name: String) -> String? {
        // An index loop: `first { }` copied (retained and released) every field it looked at.
        for index in fields.indices where Self.equalNames(fields[index].name, name) { return fields[index].value }
        return nil
    }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { Self.equalNames($0.name, name) }.map(\.value)
    }

    /// Appends a field (keeps any existing ones of that name).
    public mutating func add(_ name: String, _ value: String) { fields.append((name: name, value: value)) }

    /// Makes room for `count` fields, so adding them one by one does not grow the storage several times.
    public mutating func reserveCapacity(_ count: Int) { fields.reserveCapacity(count) }

    /// Replaces every field called `name` with one field.
    public mutating func replace(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    /// Removes every field, keeping the storage when asked (a connection reuses it for its next request).
    mutating func removeAll(keepingCapacity keep: Bool) { fields.removeAll(keepingCapacity: keep) }

    /// Removes every field called `name`.
    public mutating func remove(_ name: String) { fields.removeAll { Self.equalNames($0.name, name) } }

    /// Number of fields.
    public var count: Int { fields.count }

    /// Iterates over the fields in order.
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    /// ASCII case-insensitive name comparison (header names are ASCII tokens).
    static func equalNames(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        if a == b { return true }
        var x = a, y = b
        return x.withUTF8 { x in
            y.withUTF8 { y in
                for i in 0..<x.count where lower(x[i]) != lower(y[i]) { return false }
                return true
            }
        }
    }

    private static func lower(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }
}
