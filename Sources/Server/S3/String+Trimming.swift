extension StringProtocol {
    /// The text without leading and trailing spaces, tabs, CRs and LFs (response headers, credential files), without
    /// Foundation. `Shared` has the same for the rest of the server; `S3` keeps its own copy so that it depends on
    /// nothing of tooltool's.
    func trimmingWhitespace() -> Substring {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first == " " || first == "\t" || first == "\r" || first == "\n" {
            scalars.removeFirst()
        }
        while let last = scalars.last, last == " " || last == "\t" || last == "\r" || last == "\n" {
            scalars.removeLast()
        }
        return Substring(scalars)
    }
}
