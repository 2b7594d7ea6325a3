/// What a handler wants done with a request once its head is in.
public enum HTTPRequestAction {
    /// Answer now. If the request has a body, it is not read and the connection closes after the answer.
    case respond(HTTPResponse)
    /// The closure gets a responder and answers from elsewhere (e.g. a worker thread). For body-less requests;
    /// with a body, the body is not read and the connection closes after the answer.
    case respondLater((HTTPResponder) -> Void)
    /// Stream the body into the consumer (after `100 Continue` when the client asked for it).
    case readBody(HTTPBodyConsumer)
    /// Decide later: the closure gets an `HTTPDecider` and starts the work (on another thread) whose outcome
    /// chooses one of the other actions. Nothing of the body is read meanwhile.
    case decideLater((HTTPDecider) -> Void)
}
