/// Lowercase hex encoding and decoding.
public enum Hex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Encodes bytes as lowercase hex.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes lowercase or uppercase hex; nil when the text is not an even number of hex digits.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    /// True for `0`-`9` and `a`-`f`.
    @inline(__always)
    public static func isLowercaseHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
    }

    /// True when every byte is `0`-`9` or `a`-`f`, checked eight at a time: a per-byte loop was 1,500 instructions
    /// for a SHA-512 digest, once per blob request.
    ///
    /// For bytes below 0x80, adding `0x80 - n` to every byte sets a byte's high bit exactly when it is `>= n`,
    /// with no carry into the next byte.
    public static func allLowercaseHexDigits(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        var i = 0
        var wrong: UInt64 = 0
        while i + 8 <= bytes.count {
            let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let atLeast30 = word &+ (0x80 - 0x30) &* ones, atLeast3A = word &+ (0x80 - 0x3A) &* ones
            let atLeast61 = word &+ (0x80 - 0x61) &* ones, atLeast67 = word &+ (0x80 - 0x67) &* ones
            let good = (atLeast30 & ~atLeast3A) | (atLeast61 & ~atLeast67)
            wrong |= (word | ~good) & highs
            i += 8
        }
        while i < bytes.count {
            if !isLowercaseHexDigit(base[i]) { return false }
            i += 1
        }
        return wrong == 0
    }

    /// The byte two hex digits (either case) spell, e.g. from a `%XX` escape; nil when either is not a hex digit.
    public static func byte(_ high: UInt8, _ low: UInt8) -> UInt8? {
        guard let high = value(high), let low = value(low) else { return nil }
        return high << 4 | low
    }

    private static func value(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x61...0x66: return byte - 0x61 + 10
        case 0x41...0x46: return byte - 0x41 + 10
        default: return nil
        }
    }
}
