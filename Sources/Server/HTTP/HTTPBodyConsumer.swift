/// Receives a request body as it streams in. Lives on the connection's loop thread; every call comes from there.
public protocol HTTPBodyConsumer: AnyObject {
    /// The next bytes of the body. The pointer is valid only during the call (it points into the loop's read
    /// buffer). `flow` resumes reading after a `.pause` (from any thread).
    func consume(_ chunk: UnsafeRawBufferPointer, flow: HTTPBodyFlow) -> HTTPConsumeResult
    /// The whole body (`Content-Length` bytes) arrived; answer through `responder`, now or later from any thread.
    func end(responder: HTTPResponder)
    /// The client went away, stalled past the body timeout, or sent a short body: drop everything. No response
    /// will be sent.
    func abort()
}

/// What the connection does after a body chunk went to its consumer.
public enum HTTPConsumeResult {
    /// Go on reading.
    case proceed
    /// The chunk was taken, but read nothing more until `HTTPBodyFlow.resume()` (back-pressure: the consumer's
    /// writes are behind). No body deadline runs meanwhile; the consumer owns the wait.
    case pause
    /// Stop reading: send this response, then close the connection.
    case stop(HTTPResponse)
}

/// Resumes reading a paused request body; a small value that any thread may hold and use.
///
/// A resume for a request that is over (answered, aborted, or a later request on the connection) is ignored.
public struct HTTPBodyFlow: Sendable {
    let mailbox: LoopMailbox
    let connection: UInt64
    let sequence: UInt64

    /// The flow of request `sequence` of `connection` on `loop` (made on the loop thread; keeps its mailbox).
    init(loop: EventLoop, connection: UInt64, sequence: UInt64) {
        self.mailbox = loop.mailbox
        self.connection = connection
        self.sequence = sequence
    }

    /// Reads on after a `.pause`. Posts to the connection's loop; safe from any thread, more than once.
    public func resume() {
        mailbox.post(.resumeBody(connection: connection, sequence: sequence))
    }
}
