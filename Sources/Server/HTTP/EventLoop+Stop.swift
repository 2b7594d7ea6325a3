import CEvent

extension EventLoop {
    /// Graceful stop, step one: stop accepting, close connections with no request in flight, let the others
    /// finish (each closes after its response) until `gracefulStopTimeout`.
    func beginStop() {
        guard !stopping else { return }
        stopping = true
        acceptEvent = nil
        tlsAcceptEvent = nil
        for connection in Array(connections.values) where connection.isQuiet {
            connection.close()
        }
        if connections.isEmpty {
            event_base_loopbreak(base.pointer)
        } else {
            stopTimer?.add(timeout: configuration.gracefulStopTimeout)
        }
    }

    /// Graceful stop, step two: the time is up, end the loop (`run` closes what is left).
    func finishStop() {
        event_base_loopbreak(base.pointer)
    }
}

extension Connection {
    /// No request in flight: between requests, not yet sent anything, or lingering after a final response.
    var isQuiet: Bool { (state == .readingHead && !request.started && stash.isEmpty) || state == .lingering }
}
