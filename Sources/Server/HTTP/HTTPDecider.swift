import Synchronization

/// Decides, from any thread and once, what to do with a request whose handler answered `.decideLater` (the
/// decision needed work that must not run on the loop: a token lookup in the index, a question to a remote store).
///
/// `decide`'s closure runs on the connection's loop thread, as `HTTPHandler.handle` does, and may return any
/// action: answer, answer later, or read the body. Until then nothing of the request's body is read and no
/// `100 Continue` is sent. A decider dropped without deciding answers 500, so a client never waits forever; a
/// decision for a connection that closed meanwhile is dropped unrun.
public final class HTTPDecider: Sendable {
    private let mailbox: LoopMailbox
    private let connection: UInt64
    private let sequence: UInt64
    private let used = Atomic<Bool>(false)

    /// A decider for request `sequence` of `connection` on `loop` (made on the loop thread; keeps its mailbox).
    init(loop: EventLoop, connection: UInt64, sequence: UInt64) {
        self.mailbox = loop.mailbox
        self.connection = connection
        self.sequence = sequence
    }

    /// Posts the decision; later calls are ignored.
    public func decide(_ action: @escaping @Sendable () -> HTTPRequestAction) {
        guard !used.exchange(true, ordering: .acquiringAndReleasing) else { return }
        mailbox.post(.decide(connection: connection, sequence: sequence, action))
    }

    deinit {
        if !used.load(ordering: .acquiring) {
            mailbox.post(
                .decide(
                    connection: connection, sequence: sequence,
                    {
                        .respond(
                            .error(
                                status: .internalServerError, name: .internalServerError,
                                description: "the request was not answered"))
                    }))
        }
    }
}
