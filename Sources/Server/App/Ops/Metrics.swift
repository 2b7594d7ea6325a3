import HTTPServer
import Shared
import Storage
import Synchronization

/// Counters for `/metrics` (Prometheus text format).
///
/// Request counters are kept per event loop (`LoopCounters`, one per loop, each behind its own lock that only its
/// loop takes per response), so responses on different loops never wait on one another; `/metrics` sums them.
final class Metrics: Sendable {
    private struct Uploads {
        var verified: Int64 = 0
        var rejected: Int64 = 0
    }

    private let loops = Mutex<[LoopCounters]>([])
    private let uploads = Mutex(Uploads())
    /// A mirror's upstream transfers, by outcome (one per upstream asked on a miss, not per request).
    private let mirrorFetches = Mutex<[MirrorFetchOutcome: Int64]>([:])
    /// A mirror's checks with its upstream (a `HEAD` for a token's pvt access or a blob's visibility), by verdict.
    private let mirrorChecks = Mutex<[MirrorCheckOutcome: Int64]>([:])
    /// A mirror's cache: blobs evicted so far, and the bytes it holds now.
    private let mirrorCache = Mutex<(evictions: Int64, bytes: Int64)>((0, 0))

    /// A new loop's counters, counted in every `render` from now on.
    func countersForLoop() -> LoopCounters {
        let counters = LoopCounters()
        loops.withLock { $0.append(counters) }
        return counters
    }

    /// Counts an upload that was verified and stored (or found stored).
    func uploadVerified() { uploads.withLock { $0.verified += 1 } }
    /// Counts an upload refused after its body started (digest mismatch, short body, disk full...).
    func uploadRejected() { uploads.withLock { $0.rejected += 1 } }

    /// Counts one upstream transfer of a mirror (or one upstream's refusal within it), by how it ended.
    func mirrorFetch(_ outcome: MirrorFetchOutcome) { mirrorFetches.withLock { $0[outcome, default: 0] += 1 } }

    /// Counts one check a mirror made with its upstream, by verdict.
    func mirrorCheck(_ outcome: MirrorCheckOutcome) { mirrorChecks.withLock { $0[outcome, default: 0] += 1 } }
    /// Counts one blob a mirror evicted (`--max-cache-size`).
    func mirrorEvicted() { mirrorCache.withLock { $0.evictions += 1 } }
    /// Sets the bytes a mirror's cache holds.
    func mirrorCacheBytes(_ bytes: Int64) { mirrorCache.withLock { $0.bytes = bytes } }

    /// The exposition text, with the per-visibility totals read from the index.
    func render(totals: [Visibility: VisibilityTotals]) -> String {
        var snapshot = LoopCounters.Counts()
        for counters in loops.withLock({ $0 }) { snapshot.add(counters.counts) }
        let uploads = self.uploads.withLock { $0 }
        let mirrorFetches = self.mirrorFetches.withLock { $0 }
        let mirrorChecks = self.mirrorChecks.withLock { $0 }
        let mirrorCache = self.mirrorCache.withLock { $0 }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Int64)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { out += "\(name)\(sample.labels) \(sample.value)\n" }
        }
        let requestKeys = snapshot.requests.keys.sorted { ($0.methodName, $0.status) < ($1.methodName, $1.status) }
        family(
            "tooltool_http_requests_total", "counter", "HTTP requests answered, by method and status.",
            requestKeys.map { ("{method=\"\($0.methodName)\",status=\"\($0.status)\"}", snapshot.requests[$0]!) })
        family(
            "tooltool_http_sent_bytes_total", "counter", "Bytes sent in responses (headers and bodies).",
            [("", snapshot.bytesSent)])
        family(
            "tooltool_http_received_bytes_total", "counter", "Bytes received in requests (heads and bodies).",
            [("", snapshot.bytesReceived)])
        family(
            "tooltool_uploads_total", "counter", "Uploads by outcome.",
            [("{outcome=\"verified\"}", uploads.verified), ("{outcome=\"rejected\"}", uploads.rejected)])
        family(
            "tooltool_mirror_fetches_total", "counter",
            "A mirror's upstream transfers by outcome (each upstream asked counts once).",
            MirrorFetchOutcome.allCases.map { ("{outcome=\"\($0.rawValue)\"}", mirrorFetches[$0] ?? 0) })
        family(
            "tooltool_mirror_checks_total", "counter",
            "A mirror's checks with its upstream (pvt access, visibility) by verdict.",
            MirrorCheckOutcome.allCases.map { ("{verdict=\"\($0.rawValue)\"}", mirrorChecks[$0] ?? 0) })
        family(
            "tooltool_mirror_evictions_total", "counter",
            "Blobs a mirror evicted to stay within --max-cache-size.", [("", mirrorCache.evictions)])
        family("tooltool_mirror_cache_bytes", "gauge", "Bytes of the blobs a mirror holds.", [("", mirrorCache.bytes)])
        family(
            "tooltool_files", "gauge", "Stored files by visibility.",
            Visibility.allCases.map { ("{visibility=\"\($0.rawValue)\"}", totals[$0]?.files ?? 0) })
        family(
            "tooltool_file_bytes", "gauge", "Stored bytes by visibility.",
            Visibility.allCases.map { ("{visibility=\"\($0.rawValue)\"}", totals[$0]?.bytes ?? 0) })
        return out
    }
}

/// One event loop's request counters: only that loop records into them (an uncontended lock per response), any
/// thread may read them.
final class LoopCounters: Sendable {
    /// What is counted.
    struct Counts {
        var requests: [RequestKey: Int64] = [:]
        var bytesSent: Int64 = 0
        var bytesReceived: Int64 = 0

        /// Adds `other` into these.
        mutating func add(_ other: Counts) {
            requests.merge(other.requests, uniquingKeysWith: +)
            bytesSent += other.bytesSent
            bytesReceived += other.bytesReceived
        }
    }

    /// A method and status pair (a struct, not an interpolated string: this runs once per request).
    struct RequestKey: Hashable {
        /// nil for a request refused before its head was parsed (labelled `-`).
        var method: HTTPMethod?
        var status: HTTPStatus

        /// The method's label.
        var methodName: String { method?.name ?? "-" }
    }

    private let state = Mutex(Counts())

    /// Counts one finished request.
    func recordRequest(method: HTTPMethod?, status: HTTPStatus, sent: Int64, received: Int64) {
        // Methods are bounded by the parser (http_parser knows a fixed set), so the label set stays small.
        state.withLock {
            $0.requests[RequestKey(method: method, status: status), default: 0] += 1
            $0.bytesSent += sent
            $0.bytesReceived += received
        }
    }

    /// A copy of the counts now.
    var counts: Counts { state.withLock { $0 } }
}
