extension String {
    /// Calls `body` with the string's UTF-8 bytes, borrowed when the string is native (`var copy = text;
    /// copy.withUTF8` cost a retain and a release per call on the response path); other strings are made
    /// contiguous first.
    func withBorrowedUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let result = try utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = self
        return try copy.withUTF8(body)
    }
}
