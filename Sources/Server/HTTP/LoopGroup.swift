import Synchronization

/// The event loops of one server, so the loop that accepts a connection can hand it to the next loop in turn.
///
/// Without it, whichever loop woke first accepted a whole burst of connections: with 64 keep-alive clients one
/// loop served about two thirds of them and the other core sat half idle.
///
/// `@unchecked Sendable` because `members` is written once, in `HTTPServer.start()` before any loop thread runs,
/// and only read afterwards; the counter is atomic.
///
/// The references are `unowned(unsafe)` so loops and group form no cycle, and not `weak`: a weak reference gives
/// the loop a side table, which sends every retain and release of it (one per connection callback) down the slow
/// path. It is safe because only a running loop deals connections, and the server keeps every loop alive until
/// all of them have stopped running.
final class LoopGroup: @unchecked Sendable {
    private struct Member {
        unowned(unsafe) let loop: EventLoop
    }

    private var members: [Member] = []
    private let next = Atomic<UInt>(0)

    /// An empty group; call `setMembers` once before the loops run.
    init() {}

    /// Records the loops, in the order connections are dealt to them.
    func setMembers(_ loops: [EventLoop]) { members = loops.map { Member(loop: $0) } }

    /// The loop that should own the next connection (round robin); nil before `setMembers`.
    func nextLoop() -> EventLoop? {
        guard !members.isEmpty else { return nil }
        let turn = next.wrappingAdd(1, ordering: .relaxed).oldValue
        return members[Int(turn % UInt(members.count))].loop
    }
}
