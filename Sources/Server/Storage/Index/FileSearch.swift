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
    static func page(
        _ digestMatches: [FileRecord], _ filenameMatches: [FileRecord], visibilities: Set<Visibility>,
        limit: Int
    ) -> [FileRecord] {
        var seen = Set<Digest>()
        var result: [FileRecord] = []
        for record in digestMatches + filenameMatches where result.count < limit {
            if visibilities.contains(record.visibility), seen.insert(record.digest).inserted { result.append(record) }
        }
        return result
    }

    /// As `page(_:_:visibilities:limit:)` where the filename matches are digests, newest first, and `records` reads
    /// the file records of some of them: it is asked only for as many as the page still needs (twice that when a
    /// visibility is hidden, since some will be dropped), again while the page is short and matches remain.
    static func page(
        _ digestMatches: [FileRecord], filenameMatches: [Digest], visibilities: Set<Visibility>, limit: Int,
        records: ([Digest]) throws(IndexError) -> [FileRecord]
    ) throws(IndexError) -> [FileRecord] {
        var result = page(digestMatches, [], visibilities: visibilities, limit: limit)
        var seen = Set(digestMatches.map(\.digest))
        var pending = filenameMatches.filter { seen.insert($0).inserted }[...]
        let everyVisibility = Set(Visibility.allCases).isSubset(of: visibilities)
        while result.count < limit, !pending.isEmpty {
            let wanted = (limit - result.count) * (everyVisibility ? 1 : 2)
            let chunk = Array(pending.prefix(wanted))
            pending = pending.dropFirst(chunk.count)
            let found = Dictionary(try records(chunk).map { ($0.digest, $0) }, uniquingKeysWith: { first, _ in first })
            for digest in chunk where result.count < limit {
                if let record = found[digest], visibilities.contains(record.visibility) { result.append(record) }
            }
        }
        return result
    }
}
