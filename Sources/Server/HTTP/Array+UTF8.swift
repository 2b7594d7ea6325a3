extension Array where Element == UInt8 {
    /// Appends the UTF-8 bytes of `text` with one copy. `append(contentsOf: text.utf8)` goes byte by byte through
    /// the generic `Sequence` path, which made building a response head cost more than parsing the request.
    mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }
}
