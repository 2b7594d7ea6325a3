extension String {
    /// The string without leading and trailing spaces, tabs, CRs and LFs (header values, the token file).
    ///
    /// Works on scalars, not Characters: `"\r\n"` is one Character, equal to neither `"\r"` nor `"\n"`.
    func trimmingWhitespace() -> String {
        func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
            scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n"
        }
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, isWhitespace(first) { scalars.removeFirst() }
        while let last = scalars.last, isWhitespace(last) { scalars.removeLast() }
        return String(Substring(scalars))
    }
}
