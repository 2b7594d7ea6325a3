#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A random sample of the index's filenames, from which a filename search chooses how to run (`plan(for:fetch:)`).
///
/// PostgreSQL's own estimate for `ILIKE '%text%'` comes from a 100-entry histogram and is often far off for a text of
/// several words: `binutils-12.` was estimated at 10,140 rows of 1,000,000 (1,569 match), so it walked 300,000 rows
/// newest-first (141 ms) where the trigram index answers in 20 ms. And the trigram index reads the posting list of
/// every trigram in the pattern before it reads a row; for a long text most are common ones (`-li`, `.0.`, `and`): the
/// whole name `lld-18.0.0-android-arm-311146` costs 20-35 ms where its rarest word alone (`311146`) costs 0.5 ms.
struct FilenameSample: Sendable {
    /// The sampled filenames, lowercased, each ended by a newline (a filename holds none).
    private let text: [UInt8]
    /// How many names `text` holds.
    let count: Int
    /// How many rows the table had when sampled (PostgreSQL's estimate).
    let tableRows: Double
    /// When it was taken (the index clock's seconds).
    let taken: Int64

    init(names: [String], tableRows: Double, taken: Int64) {
        text = Array(names.map { $0.lowercased() + "\n" }.joined().utf8)
        count = names.count
        self.tableRows = tableRows
        self.taken = taken
    }

    /// How many filenames a sample holds at most.
    static let size = 20_000
    /// How long a sample serves before the next search takes a new one.
    static let lifetime: Int64 = 600
    /// A word is narrow enough when the sample predicts at most this many rows hold it.
    static let narrowRows: Double = 2_000
    /// How many of the newest rows a common text's search walks before it falls back to the trigram index.
    static let newestWindow: Int64 = 20_000

    /// How a filename search of `text` (3 characters or more) that wants `fetch` matches runs:
    /// - `.newest`: the sample predicts at least twice `fetch` matches among the newest `newestWindow` rows, so walk
    ///   them newest-first and stop at `fetch` (when the walk finds fewer, the caller falls back to `.trigrams`);
    /// - `.narrowed(word)`: the text's rarest word is rare (`narrowingWord(for:)`): the trigram index gets the word,
    ///   the rows it finds are checked against the whole text;
    /// - `.trigrams`: the trigram index gets the whole text.
    func plan(for text: String, fetch: Int) -> FilenameSearchPlan {
        if count > 0 {
            let density = Double(namesHolding(text.lowercased())) / Double(count)
            if density * min(Double(Self.newestWindow), max(tableRows, Double(count))) >= 2 * Double(fetch) {
                return .newest(window: Self.newestWindow)
            }
        }
        return narrowingWord(for: text).map { .narrowed($0) } ?? .trigrams
    }

    /// The word of `text` to give the trigram index instead of the whole text, or nil to give it the whole text.
    ///
    /// Words are runs of ASCII letters and digits (the trigram index splits names the same way), at least 3 long
    /// (shorter ones have no trigram of their own). The rarest word in the sample is chosen when the sample
    /// predicts at most `narrowRows` rows hold it; a text that is one word is left whole.
    func narrowingWord(for text: String) -> String? {
        let lowered = text.lowercased()
        let words = Self.words(of: lowered).filter { $0.utf8.count >= 3 }
        guard !words.isEmpty, !(words.count == 1 && words[0] == lowered), count > 0 else { return nil }
        var best: (word: String, count: Int)?
        for word in Set(words) {
            let holding = namesHolding(word)
            if best.map({ holding < $0.count || (holding == $0.count && word.utf8.count > $0.word.utf8.count) }) ?? true
            {
                best = (word, holding)
            }
        }
        guard let best else { return nil }
        let predicted = Double(best.count) * max(tableRows, Double(count)) / Double(count)
        return predicted <= Self.narrowRows ? best.word : nil
    }

    /// How many sampled names hold `word` (lowercase ASCII): a scan of the joined names (`memchr` for the word's
    /// first byte, `memcmp` for the rest), one hit per name.
    func namesHolding(_ word: String) -> Int {
        let needle = Array(word.utf8)
        return text.withUnsafeBytes { (haystack) -> Int in
            guard let base = haystack.baseAddress, let first = needle.first else { return 0 }
            var found = 0
            var offset = 0
            while offset + needle.count <= haystack.count,
                let hit = memchr(base + offset, Int32(first), haystack.count - offset - needle.count + 1)
            {
                let at = base.distance(to: UnsafeRawPointer(hit))
                guard memcmp(hit, needle, needle.count) == 0 else { offset = at + 1; continue }
                found += 1
                guard let end = memchr(base + at, Int32(UInt8(ascii: "\n")), haystack.count - at) else { break }
                offset = base.distance(to: UnsafeRawPointer(end)) + 1
            }
            return found
        }
    }

    /// The runs of ASCII letters and digits in `text`.
    static func words(of text: String) -> [String] {
        text.utf8.split {
            !(UInt8(ascii: "a")...UInt8(ascii: "z") ~= $0 || UInt8(ascii: "0")...UInt8(ascii: "9") ~= $0
                || UInt8(ascii: "A")...UInt8(ascii: "Z") ~= $0)
        }
        .map { String(decoding: $0, as: UTF8.self) }
    }
}

/// How `FilenameSample.plan(for:fetch:)` tells a filename search to run.
enum FilenameSearchPlan: Equatable, Sendable {
    case newest(window: Int64)
    case narrowed(String)
    case trigrams
}
