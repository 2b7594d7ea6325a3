import HTTPServer
import Shared
import Storage

#if canImport(Glibc)
import Glibc
#endif

/// Operations endpoints: heartbeats for load balancers and monitors, the version, Prometheus metrics.
struct OpsRoutes: Sendable {
    /// The version `/__version__` reports.
    static let version = "0.1.0"

    let context: ServerContext

    /// `/__heartbeat__`: 200 when the store takes a write and the index answers (and, on a mirror, an upstream
    /// answers its `/__lbheartbeat__`), else 503 naming what failed ("the index is down" when its database cannot be
    /// reached, "the upstream is unreachable (...)"). Runs on the worker queue, the upstream probe on the fetcher's loop.
    func heartbeat(_ responder: any HTTPResponder) {
        let context = self.context
        context.worker.async {
            var problems: [String] = []
            if let problem = context.store.checkWritable() { problems.append(problem) }
            do { _ = try context.index.visibilityTotals() } catch {
                if case IndexError.unavailable = error {
                    problems.append("the index is down")
                } else {
                    problems.append("the index does not answer")
                }
                ServerLog.error("heartbeat: \(error)")
            }
            guard let mirror = context.mirror else { return Self.report(problems, to: responder) }
            let local = problems
            UpstreamProbe.run(mirror) { unreachable in
                var problems = local
                // A mirror is unhealthy when no upstream answers (it can still serve what it holds, which is why
                // `/__lbheartbeat__` stays 200); one upstream down among several is named in the log only.
                if unreachable.count == mirror.upstreams.count {
                    problems.append("the upstream is unreachable (\(unreachable.joined(separator: "; ")))")
                } else if !unreachable.isEmpty {
                    ServerLog.error("heartbeat: upstream unreachable: \(unreachable.joined(separator: "; "))")
                }
                Self.report(problems, to: responder)
            }
        }
    }

    /// 200 `{"status":"ok"}` when nothing is wrong, else 503 `Unhealthy` naming every problem.
    private static func report(_ problems: [String], to responder: any HTTPResponder) {
        if problems.isEmpty {
            responder.send(APIResponse.json(["status": "ok"]))
        } else {
            responder.send(APIResponse.error(.serviceUnavailable, .unhealthy, problems.joined(separator: "; ")))
        }
    }

    /// `/__version__`.
    func versionInfo() -> HTTPResponse {
        APIResponse.json(["name": "tooltool-swift", "version": .string(Self.version)])
    }

    /// `/metrics` in the Prometheus text format (the totals are one small indexed read).
    func metrics(_ responder: any HTTPResponder) {
        let context = self.context
        context.worker.async {
            do {
                let text = context.metrics.render(totals: try context.index.visibilityTotals())
                responder.send(
                    HTTPResponse(
                        status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4"],
                        body: .bytes(Array(text.utf8))))
            } catch {
                responder.send(APIResponse.internalError("metrics", error))
            }
        }
    }
}
