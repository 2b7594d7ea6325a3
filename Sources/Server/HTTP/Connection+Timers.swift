extension Connection {
    /// When the current state times out: head deadline, idle keep-alive, body or write stall, or linger end.
    func currentDeadline() -> Double? {
        let configuration = loop.configuration
        switch state {
        case .readingHead:
            return isIdle ? idleSince + configuration.idleTimeout : headStart + configuration.headerTimeout
        case .readingBody:
            return request.bodyPaused ? nil : lastReadProgress + configuration.bodyStallTimeout
        case .writing:
            return lastWriteProgress + configuration.bodyStallTimeout
        case .lingering:
            return lingerStart + configuration.lingerTimeout
        case .waitingForResponse, .closed:
            return nil
        }
    }

    /// The timer fired: act if the deadline really passed (progress only moves deadlines lazily), else re-arm.
    func timerFired() {
        armedDeadline = nil  // a fired timer is no longer pending
        guard let deadline = currentDeadline() else { return }
        if monotonicNow() < deadline {
            armTimer()
            return
        }
        if state == .readingHead && request.started {
            reject(
                .error(status: .requestTimeout, name: .requestTimeout, description: "the request head took too long"))
        } else {
            close()
        }
    }
}
