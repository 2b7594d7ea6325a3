/// Answers one request, from any thread, exactly once.
///
/// The layer hops the response back to the connection's loop thread. If the connection is gone by then the
/// response is dropped (a `.file` descriptor is closed). A responder released without being used answers 500, so a
/// forgotten reply never hangs a client.
public protocol HTTPResponder: Sendable {
    /// Sends `response` as the answer to the request this responder belongs to. Later calls are ignored.
    func send(_ response: HTTPResponse)
}
