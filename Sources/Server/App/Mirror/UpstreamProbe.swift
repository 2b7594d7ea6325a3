import S3
import Synchronization

/// Asks every upstream's `/__lbheartbeat__` at once (for the mirror's `/__heartbeat__`) and reports, once all
/// answered or failed, which ones could not be reached and why.
final class UpstreamProbe: Sendable {
    /// One upstream's answer.
    private final class Asker: CurlFetchReceiver {
        let upstream: String
        let probe: UpstreamProbe
        init(upstream: String, probe: UpstreamProbe) {
            self.upstream = upstream
            self.probe = probe
        }
        func head(status: Int, headers: [(String, String)]) {}
        func received(_ bytes: UnsafeRawBufferPointer) -> Bool { true }
        func finished(_ result: Result<Void, CurlFetchError>) {
            switch result {
            case .success: probe.answered(upstream, nil)
            case .failure(let error): probe.answered(upstream, "\(error)")
            }
        }
    }

    private struct State {
        var pending: Int
        var unreachable: [String] = []
        var then: (@Sendable ([String]) -> Void)?
    }

    private let state: Mutex<State>

    private init(count: Int, then: @escaping @Sendable ([String]) -> Void) {
        state = Mutex(State(pending: count, then: then))
    }

    /// Probes `mirror`'s upstreams; `then` gets "URL: why" for each one that did not answer 2xx (any thread).
    static func run(_ mirror: Mirror, then: @escaping @Sendable ([String]) -> Void) {
        let probe = UpstreamProbe(count: mirror.upstreams.count, then: then)
        for upstream in mirror.upstreams {
            mirror.fetcher.get(
                "\(upstream)/__lbheartbeat__", connectTimeout: mirror.connectTimeout,
                stallTimeout: min(mirror.stallTimeout, 5), receiver: Asker(upstream: upstream, probe: probe))
        }
    }

    private func answered(_ upstream: String, _ failure: String?) {
        let done = state.withLock { state -> (@Sendable ([String]) -> Void, [String])? in
            if let failure { state.unreachable.append("\(upstream): \(failure)") }
            state.pending -= 1
            guard state.pending == 0, let then = state.then else { return nil }
            state.then = nil
            return (then, state.unreachable)
        }
        if let (then, unreachable) = done { then(unreachable) }
    }
}
