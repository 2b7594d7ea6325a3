extension String {
    /// The string without leading and trailing spaces, tabs, CRs and LFs (header values, the token file).
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars.drop { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        var result = String(String.UnicodeScalarView(scalars))
        while let last = result.last, last == " " || last == "\t" || last == "\r" || last == "\n" { result.removeLast() }
        return result
    }
}
