import Synchronization

/// The mailboxes of one server's event loops, so the loop that accepts a connection can hand it to the next loop in
/// turn.
///
/// Without it, whichever loop woke first accepted a whole burst of connections: with 64 keep-alive clients one
/// loop served about two thirds of them and the other core sat half idle.
///
/// It holds mailboxes, not loops: they are `Sendable` and do not reference their loops, so the group is immutable
/// (checked `Sendable`) and forms no cycle with the loops that hold it.
final class LoopGroup: Sendable {
    private let members: [LoopMailbox]
    private let next = Atomic<UInt>(0)

    /// A group dealing connections to `members` in this order.
    init(members: [LoopMailbox]) {
        self.members = members
    }

    /// The mailbox of the loop that should own the next connection (round robin); nil for an empty group.
    func nextMailbox() -> LoopMailbox? {
        guard !members.isEmpty else { return nil }
        let turn = next.wrappingAdd(1, ordering: .relaxed).oldValue
        return members[Int(turn % UInt(members.count))]
    }
}
