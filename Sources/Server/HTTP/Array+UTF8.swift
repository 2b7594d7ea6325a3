extension Array where Element == UInt8 {
    /// Appends the UTF-8 bytes of `text` with one copy. `append(contentsOf: text.utf8)` goes byte by byte through
    /// the generic `Sequence` path, which made building a response head cost more than parsing the request.
    mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }

    /// Appends raw bytes with one copy (`append(contentsOf:)` of a raw buffer goes byte by byte through `Sequence`).
    mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self))
    }

    /// Appends the decimal digits of `value` (no `String` in between).
    mutating func appendDecimal(_ value: Int64) {
        if value < 0 { append(0x2D) }
        var rest = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for the 20 digits of UInt64.max
        Swift.withUnsafeMutableBytes(of: &digits) { buffer in
            var start = 24
            repeat {
                start -= 1
                buffer[start] = UInt8(truncatingIfNeeded: 0x30 &+ rest % 10)
                rest /= 10
            } while rest > 0
            append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start...]).assumingMemoryBound(to: UInt8.self))
        }
    }
}
