/// A streamed response body in progress: its source, the sink it writes into, and the bytes still to come.
final class ResponseStream {
    let source: any HTTPBodySource
    let sink: HTTPBodySink
    /// Body bytes the source has yet to deliver.
    var remaining: Int64

    init(source: any HTTPBodySource, sink: HTTPBodySink, length: Int64) {
        self.source = source
        self.sink = sink
        self.remaining = length
    }
}

extension Connection {
    /// A consumer that paused the request body resumes it: parse what waited in the stash, then read again.
    func resumeBody(sequence: UInt64) {
        loop.assertInEventLoop()
        guard sequence == self.sequence, state == .readingBody, request.bodyPaused, !request.decisionPending else {
            return
        }
        request.bodyPaused = false
        lastReadProgress = monotonicNow()
        resumeFromStash()
        guard state != .closed else { return }
        armTimer()
        updateReadInterest()
    }

    /// Starts a `.stream` body whose head is queued: the source writes into a sink bound to this request.
    func beginStream(_ source: any HTTPBodySource, length: Int64) {
        let sink = HTTPBodySink(loop: loop, connection: id, sequence: sequence)
        stream = ResponseStream(source: source, sink: sink, length: length)
        source.start(sink)
    }

    /// The source wrote bytes or ended: queue them (never past the announced length) and write.
    func streamBodyReady(sequence: UInt64) {
        loop.assertInEventLoop()
        guard sequence == self.sequence, state == .writing, let stream else { return }
        let (chunks, end) = stream.sink.take()
        for chunk in chunks where stream.remaining > 0 {
            let count = Int(min(Int64(chunk.count), stream.remaining))
            chunk.withUnsafeBytes { output.append(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            stream.remaining -= Int64(count)
        }
        if stream.remaining > 0, end != nil {
            close()  // the source failed or ended short: the client must not take a short body for a whole one
            return
        }
        if !responseQueued { flush() }  // a queued response is written at the end of this iteration anyway
    }

    /// True while a streamed body still has bytes to come; tells a waiting source to go on when the output drained.
    func streamPending() -> Bool {
        guard let stream else { return false }
        if stream.sink.noteUnsent(output.count) { stream.source.resume() }
        return stream.remaining > 0
    }

    /// Lets go of a streamed body: finished, or cut short by a close.
    func endStream() {
        guard let stream else { return }
        self.stream = nil
        stream.sink.close()
        if stream.remaining > 0 { stream.source.cancel() }
    }
}
