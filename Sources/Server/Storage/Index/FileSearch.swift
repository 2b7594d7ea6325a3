import Shared

/// The part of `MetadataIndex.searchFiles` both backends share: which text is a digest prefix, how many filename
/// matches to ask the database for, and how the two kinds of match become one page. Each backend only runs its queries.
enum FileSearch {
    /// Lowercase hex: every digest with this prefix sorts in `[text, text + "g")`, a range scan of the primary key.
    static func isDigestPrefix(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy(Hex.isLowercaseHexDigit)
    }

    /// Filename matches to fetch for a page of `limit`: over-fetched so that dropping duplicates and hidden
    /// visibilities still fills the page most of the time.
    static func filenameFetchLimit(_ limit: Int) -> Int64 { Int64(limit * 4) }

    /// Digest matches first, then filename matches, each file once, only of `visibilities`, at most `limit`.
    static func page(_ digestMatches: [FileRecord], _ filenameMatches: [FileRecord], visibilities: Set<Visibility>,
                     limit: Int) -> [FileRecord] {
        var seen = Set<Digest>()
        var result: [FileRecord] = []
        for record in digestMatches + filenameMatches where result.count < limit {
            if visibilities.contains(record.visibility), seen.insert(record.digest).inserted { result.append(record) }
        }
        return result
    }
}
