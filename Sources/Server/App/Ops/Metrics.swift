import Shared
import Storage
import Synchronization

/// Counters for `/metrics` (Prometheus text format), shared by every event loop.
final class Metrics: Sendable {
    private struct Counters {
        var requests: [RequestKey: Int64] = [:]
        var bytesSent: Int64 = 0
        var bytesReceived: Int64 = 0
        var uploadsVerified: Int64 = 0
        var uploadsRejected: Int64 = 0
    }

    /// A method and status pair (a struct, not an interpolated string: this runs once per request).
    private struct RequestKey: Hashable {
        var method: String
        var status: Int
    }

    private let counters = Mutex(Counters())

    /// Counts one finished request.
    func recordRequest(method: String, status: Int, sent: Int64, received: Int64) {
        // Methods are bounded by the parser (http_parser knows a fixed set), so the label set stays small.
        counters.withLock {
            $0.requests[RequestKey(method: method, status: status), default: 0] += 1
            $0.bytesSent += sent
            $0.bytesReceived += received
        }
    }

    /// Counts an upload that was verified and stored (or found stored).
    func uploadVerified() { counters.withLock { $0.uploadsVerified += 1 } }
    /// Counts an upload refused after its body started (digest mismatch, short body, disk full...).
    func uploadRejected() { counters.withLock { $0.uploadsRejected += 1 } }

    /// The exposition text, with the per-visibility totals read from the index.
    func render(totals: [Visibility: VisibilityTotals]) -> String {
        let snapshot = counters.withLock { $0 }
        var out = "# HELP tooltool_http_requests_total HTTP requests answered, by method and status.\n"
        out += "# TYPE tooltool_http_requests_total counter\n"
        for key in snapshot.requests.keys.sorted(by: { ($0.method, $0.status) < ($1.method, $1.status) }) {
            out += "tooltool_http_requests_total{method=\"\(key.method)\",status=\"\(key.status)\"} \(snapshot.requests[key]!)\n"
        }
        out += "# HELP tooltool_http_sent_bytes_total Bytes sent in responses (headers and bodies).\n"
        out += "# TYPE tooltool_http_sent_bytes_total counter\n"
        out += "tooltool_http_sent_bytes_total \(snapshot.bytesSent)\n"
        out += "# HELP tooltool_http_received_bytes_total Bytes received in requests (heads and bodies).\n"
        out += "# TYPE tooltool_http_received_bytes_total counter\n"
        out += "tooltool_http_received_bytes_total \(snapshot.bytesReceived)\n"
        out += "# HELP tooltool_uploads_total Uploads by outcome.\n"
        out += "# TYPE tooltool_uploads_total counter\n"
        out += "tooltool_uploads_total{outcome=\"verified\"} \(snapshot.uploadsVerified)\n"
        out += "tooltool_uploads_total{outcome=\"rejected\"} \(snapshot.uploadsRejected)\n"
        out += "# HELP tooltool_files Stored files by visibility.\n"
        out += "# TYPE tooltool_files gauge\n"
        for visibility in Visibility.allCases {
            out += "tooltool_files{visibility=\"\(visibility.rawValue)\"} \(totals[visibility]?.files ?? 0)\n"
        }
        out += "# HELP tooltool_file_bytes Stored bytes by visibility.\n"
        out += "# TYPE tooltool_file_bytes gauge\n"
        for visibility in Visibility.allCases {
            out += "tooltool_file_bytes{visibility=\"\(visibility.rawValue)\"} \(totals[visibility]?.bytes ?? 0)\n"
        }
        return out
    }
}
