import Synchronization

/// The `HTTPResponder` handed to the app: posts the response to the connection's loop mailbox.
///
/// Sendable: its fields are immutable and the used-once flag is atomic. Answers 500 from `deinit` if the app
/// dropped it unused, so a client never waits forever.
final class ConnectionResponder: HTTPResponder {
    private let mailbox: LoopMailbox
    private let connection: UInt64
    private let sequence: UInt64
    private let used = Atomic<Bool>(false)

    /// A responder for request `sequence` of `connection` on `loop` (made on the loop thread; keeps its mailbox).
    init(loop: EventLoop, connection: UInt64, sequence: UInt64) {
        self.mailbox = loop.mailbox
        self.connection = connection
        self.sequence = sequence
    }

    /// Posts `response` once; later calls close a `.file` body and are ignored.
    func send(_ response: HTTPResponse) {
        guard !used.exchange(true, ordering: .acquiringAndReleasing) else {
            response.body.discard()
            return
        }
        mailbox.post(.response(connection: connection, sequence: sequence, response))
    }

    deinit {
        if !used.load(ordering: .acquiring) {
            mailbox.post(
                .response(
                    connection: connection, sequence: sequence,
                    .error(
                        status: .internalServerError, name: .internalServerError,
                        description: "the request was not answered")))
        }
    }
}
