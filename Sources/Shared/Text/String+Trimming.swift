extension StringProtocol {
    /// The text without leading and trailing ASCII whitespace: spaces, tabs, CRs and LFs (header values, a token
    /// file, an ini line). Without Foundation, which the server does not load (its RSS), and one rule for server and
    /// client alike.
    ///
    /// Works on scalars, not Characters: `"\r\n"` is one Character, equal to neither `"\r"` nor `"\n"`.
    public func trimmingWhitespace() -> Substring {
        func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
            scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n"
        }
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, isWhitespace(first) { scalars.removeFirst() }
        while let last = scalars.last, isWhitespace(last) { scalars.removeLast() }
        return Substring(scalars)
    }
}
