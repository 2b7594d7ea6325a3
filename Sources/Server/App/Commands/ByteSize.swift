import ArgumentParser

/// A size in bytes on the command line: digits, optionally followed by `K`, `M`, `G` or `T` (powers of 1024,
/// upper or lower case), e.g. `--max-cache-size 10G`, `512M` or `1048576`.
struct ByteSize: ExpressibleByArgument, Sendable, Equatable {
    /// The size.
    let bytes: Int64

    /// A size of `bytes` bytes.
    init(bytes: Int64) { self.bytes = bytes }

    /// Parses `12`, `12K`, `12M`, `12G`, `12T`; nil for anything else, a negative number or an overflow.
    init?(argument: String) {
        var digits = Substring(argument)
        var shift: Int64 = 0
        if let last = digits.last, let power = "KMGT".firstIndex(of: Character(last.uppercased())) {
            shift = Int64(10 * ("KMGT".distance(from: "KMGT".startIndex, to: power) + 1))
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), let count = Int64(digits) else { return nil }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: 1 << shift)
        guard !overflow else { return nil }
        self.bytes = bytes
    }
}

private extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
