import Shared

/// What a connection knows about the request it is reading or answering; reset for each request.
/// Loop thread only (a plain value inside its `Connection`).
struct RequestState {
    /// What the handler decided, acted on when the message is complete.
    enum Decision {
        /// Send this response.
        case response(HTTPResponse)
        /// Give the app a responder.
        case later((HTTPResponder) -> Void)
        /// The body went to this consumer; call `end` with a responder.
        case consumer(HTTPBodyConsumer)
    }

    /// Whether the first byte of this request has arrived.
    var started = false
    /// Wall-clock time of the first byte (seconds since 1970), for the access log.
    var startDate = 0.0
    /// Monotonic time of the first byte, for the duration.
    var startTime = 0.0
    /// Raw request-target bytes seen so far.
    var url: [UInt8] = []
    /// The header name being read.
    var field: [UInt8] = []
    /// The header value being read.
    var value: [UInt8] = []
    /// True once a value callback came for the current field.
    var inValue = false
    /// Header fields read so far.
    var headers = HTTPHeaders()
    /// Bytes of head seen so far (request-target and header lines).
    var headBytes = 0
    /// Why the layer itself refuses the request, set by a callback before it makes the parser fail.
    var rejection: HTTPResponse?
    /// What the response and the access log need of the validated head, once complete (the head itself is not kept:
    /// reading a field of a stored `HTTPRequestHead?` copied, retained and released, all of it).
    var method: HTTPMethod?, path: String?, version: HTTPVersion?, isHead = false
    /// The handler's decision.
    var decision: Decision?
    /// Close after the response whatever the client asked (its body was not read).
    var forceClose = false
    /// Bytes of this request read from the socket.
    var bytesIn: Int64 = 0
    /// The body consumer asked to pause: nothing is read or parsed until it resumes (`HTTPBodyFlow`).
    var bodyPaused = false
    /// The handler will decide later (`HTTPDecider`); `bodyPaused` holds the input meanwhile.
    var decisionPending = false
    /// The request announced a body (`Content-Length` over 0).
    var hasBody = false
    /// An HTTP/1.1 request with `Expect: 100-continue`.
    var expectsContinue = false
    /// The request line and framing `HeadScanner` read; nil while http_parser reads the request.
    var scanned: HeadScanner.Head?
    /// Body bytes still to come of a request whose head `HeadScanner` read (the layer frames its body itself by
    /// `Content-Length`); nil once the message is complete, and for requests http_parser reads.
    var bodyRemaining: Int64?

    /// Clears the state for the next request on the connection, keeping the storage of the byte buffers and of the
    /// header list (a keep-alive connection then allocates none of them again).
    ///
    /// Field by field: `self = RequestState()` (with the buffers moved out and back) cost 1,500 instructions a request
    /// in the copies and destroys of the whole value.
    mutating func reset() {
        started = false
        startDate = 0
        startTime = 0
        url.removeAll(keepingCapacity: true)
        field.removeAll(keepingCapacity: true)
        value.removeAll(keepingCapacity: true)
        inValue = false
        headers.removeAll(keepingCapacity: true)
        headBytes = 0
        rejection = nil
        method = nil
        path = nil
        version = nil
        isHead = false
        decision = nil
        forceClose = false
        bytesIn = 0
        bodyPaused = false
        decisionPending = false
        hasBody = false
        expectsContinue = false
        scanned = nil
        bodyRemaining = nil
    }
}
