import Foundation
import Shared
import TestSupport
import Testing

/// `GET /upload?before=ID&limit=N`: paging past the newest 50, the `Link` header, and search within pages.
@Suite struct APIPagingTests {
    /// The ids of a batch listing.
    func ids(_ harness: APIHarness, _ response: RawHTTPResponse) throws -> [Int64] {
        try harness.json(response)["result"]?.arrayValue?.compactMap { $0["id"]?.intValue } ?? []
    }

    /// The target named by a `Link: <...>; rel="next"` header.
    func next(_ response: RawHTTPResponse) -> String? {
        guard let link = response.header("Link"), link.hasSuffix("; rel=\"next\""),
            let open = link.firstIndex(of: "<"), let close = link.firstIndex(of: ">")
        else { return nil }
        return String(link[link.index(after: open)..<close])
    }

    @Test func pagesWalkEveryBatchNewestFirst() throws {
        let harness = try APIHarness()
        let admin = try harness.token("admin", "upload.public", "download.internal")
        // 60 batches, two files each way round; only POSTs (no blob bytes needed to list them).
        for n in 1...60 {
            _ = try harness.createBatch(
                token: admin, message: n % 2 == 0 ? "even build \(n)" : "odd build \(n)",
                files: [APIFile("f\(n).bin", size: 10)])
        }
        // No parameters: tooltool's answer, the newest 50, and a link to the rest.
        let first = try harness.send("GET", "/upload", token: admin)
        #expect(try ids(harness, first) == Array((11...60).reversed()))
        #expect(next(first) == "/upload?before=11&limit=50")
        let rest = try harness.send("GET", try #require(next(first)), token: admin)
        #expect(try ids(harness, rest) == Array((1...10).reversed()))
        #expect(next(rest) == nil)

        // Small pages walk everything exactly once.
        var seen: [Int64] = []
        var target: String? = "/upload?limit=7"
        var pages = 0
        while let current = target, pages < 20 {
            let page = try harness.send("GET", current, token: admin)
            #expect(page.status == 200)
            seen += try ids(harness, page)
            target = next(page)
            pages += 1
        }
        #expect(seen == Array((1...60).reversed()))
        #expect(pages == 9)

        // Search pages too, and the link carries the text (percent-encoded).
        let even = try harness.send("GET", "/upload?q=even%20build&limit=20", token: admin)
        #expect(try ids(harness, even) == stride(from: 60, through: 22, by: -2).map { Int64($0) })
        #expect(next(even) == "/upload?q=even%20build&before=22&limit=20")
        let evenRest = try harness.send("GET", try #require(next(even)), token: admin)
        #expect(try ids(harness, evenRest) == stride(from: 20, through: 2, by: -2).map { Int64($0) })
        // Short search text (no trigram index) pages the same way.
        let short = try harness.send("GET", "/upload?q=od&before=10&limit=3", token: admin)
        #expect(try ids(harness, short) == [9, 7, 5])
    }

    @Test func hiddenBatchesStayHiddenAcrossPages() throws {
        let harness = try APIHarness()
        let admin = try harness.token("admin", "upload.public", "upload.internal", "download.internal")
        let reader = try harness.token("reader", "download.public")
        for n in 1...6 {
            _ = try harness.createBatch(
                token: admin, message: "batch \(n)",
                files: [APIFile("f\(n).bin", size: 10, n % 3 == 0 ? .internal : .public)])
        }
        let page = try harness.send("GET", "/upload?limit=4", token: reader)
        #expect(try ids(harness, page) == [5, 4])  // 6 and 3 are internal
        #expect(next(page) == "/upload?before=3&limit=4")
        #expect(try ids(harness, try harness.send("GET", "/upload?before=3&limit=4", token: reader)) == [2, 1])
        #expect(!page.text.contains("batch 6"))
    }

    @Test func badPagingParametersAre400() throws {
        let harness = try APIHarness()
        let reader = try harness.token("reader", "download.public")
        for query in ["limit=0", "limit=201", "limit=x", "before=-1", "before=abc", "before=", "q=%zz"] {
            let response = try harness.send("GET", "/upload?\(query)", token: reader)
            #expect(response.status == 400, "\(query)")
            #expect(harness.errorName(response) == .badRequest, "\(query)")
        }
        #expect(try harness.send("GET", "/upload?limit=200&before=5", token: reader).status == 200)
        #expect(try harness.send("GET", "/upload?limit=5").status == 401)
    }
}
