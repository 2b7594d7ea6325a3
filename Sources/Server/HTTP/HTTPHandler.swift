/// Routes requests. Called on a loop thread once a request head has been read and validated; must not block
/// (hand slow work to another thread with `.respondLater`).
public protocol HTTPHandler: Sendable {
    /// Decides what to do with the request whose head is `head`.
    func handle(_ head: HTTPRequestHead) -> HTTPRequestAction
}
