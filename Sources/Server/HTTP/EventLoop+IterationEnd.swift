/// Work a loop saves for the end of an iteration, once the events already active in it (a batch of readable
/// connections, typically) are handled.
///
/// Responses: writing each as soon as it is ready woke the client once per response, and on 2 cores half of those
/// wake-ups crossed to the other core as an interrupt; written together after the batch, the client finds them
/// all when it wakes (small GETs with `wrk -c64`: reschedule interrupts per request 0.10 -> 0.05, throughput
/// +20% in A/B runs); at most `writeBatchLimit` of them wait, though. Log lines: one `write(2)` per iteration (per
/// 4 KiB of lines) instead of one per request.
extension EventLoop {
    /// Writes `connection`'s queued response at the end of this iteration.
    func scheduleWrite(_ connection: Connection) {
        // `writingBatch` is empty unless a batch is being written (then the new one waits for the iteration's end).
        if pendingWrites.count >= Self.writeBatchLimit && writingBatch.isEmpty {
            swap(&pendingWrites, &writingBatch)
            for queued in writingBatch { queued.writeQueuedResponse() }
            writingBatch.removeAll(keepingCapacity: true)
        }
        pendingWrites.append(connection)
        scheduleIterationEnd()
    }

    /// Responses queued in one iteration before those already queued are written without waiting for its end: with
    /// 512 connections one iteration read about 150 requests, and the clients got nothing until all were answered.
    static let writeBatchLimit = 32

    /// Lets `log` append `entry`'s line; writes the lines at the end of this iteration, or now when they passed
    /// the threshold.
    func appendLog(_ entry: HTTPAccessLogEntry, with log: HTTPAccessLogger) {
        let wasEmpty = logBuffer.isEmpty
        log(entry, logBuffer)
        if logBuffer.count >= HTTPLogBuffer.flushThreshold {
            flushLog()
        } else if wasEmpty && !logBuffer.isEmpty {
            scheduleIterationEnd()
        }
    }

    /// Makes `endIteration` run once the events already active are handled (once, however often it is asked).
    private func scheduleIterationEnd() {
        guard !iterationEndScheduled else { return }
        iterationEndScheduled = true
        iterationEndEvent?.activate()
    }

    /// The iteration's events are handled: write the queued responses (a finished one may start the next
    /// pipelined request, whose response joins the queue), then the log lines.
    func endIteration() {
        while !pendingWrites.isEmpty {
            swap(&pendingWrites, &writingBatch)
            for connection in writingBatch { connection.writeQueuedResponse() }
            writingBatch.removeAll(keepingCapacity: true)
        }
        flushLog()
        iterationEndScheduled = false
    }

    /// Writes the pending access-log lines.
    func flushLog() {
        guard !logBuffer.isEmpty else { return }
        logBuffer.write(to: configuration.accessLogDescriptor)
    }
}
