/// Receives a request body as it streams in. Lives on the connection's loop thread; every call comes from there.
public protocol HTTPBodyConsumer: AnyObject {
    /// The next bytes of the body. The pointer is valid only during the call (it points into the loop's read
    /// buffer). Return nil to go on, or a response to stop reading: it is sent and the connection then closes.
    func consume(_ chunk: UnsafeRawBufferPointer) -> HTTPResponse?
    /// The whole body (`Content-Length` bytes) arrived; answer through `responder`, now or later from any thread.
    func end(responder: HTTPResponder)
    /// The client went away, stalled past the body timeout, or sent a short body: drop everything. No response
    /// will be sent.
    func abort()
}
