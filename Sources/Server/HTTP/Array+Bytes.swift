extension Array where Element == UInt8 {
    /// Appends raw bytes with one copy (`append(contentsOf:)` of a raw buffer goes byte by byte through `Sequence`).
    mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self))
    }
}
