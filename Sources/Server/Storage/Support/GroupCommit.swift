import Synchronization

/// Group commit: writers that each need one small change made durable share one transaction (and its one sync) when
/// they arrive together, as databases do with their logs.
///
/// Each writer hands its item in with `submit`, then takes the lock that serialises writes to the store and calls
/// `complete` under it. Whoever holds the lock writes every item waiting at that moment in one go; the writers queued
/// behind it then find their result ready and return without writing. A lone writer therefore waits for nothing
/// extra (there is no timer), and the writers arriving during one commit share the next one.
///
/// Thread safety: any thread; `complete` must be called under the caller's write lock, the one `write` needs.
final class GroupCommit<Item: Sendable, Output: Sendable, Failure: Error>: Sendable {
    private struct State {
        var nextTicket: UInt64 = 0
        var waiting: [(ticket: UInt64, item: Item)] = []
        var done: [UInt64: Result<Output, Failure>] = [:]
    }

    private let state = Mutex(State())

    /// An empty group.
    init() {}

    /// Queues `item`; returns the ticket to pass to `complete`.
    func submit(_ item: Item) -> UInt64 {
        state.withLock { state in
            state.nextTicket += 1
            state.waiting.append((state.nextTicket, item))
            return state.nextTicket
        }
    }

    /// Under the write lock: the outcome of the ticket's item, writing every waiting item first (with `write`, which
    /// returns one output per item, in order) unless an earlier holder of the lock already did.
    ///
    /// When `write` throws for a group of several, each item is written again alone, so one bad item fails no other.
    func complete(_ ticket: UInt64, write: ([Item]) throws(Failure) -> [Output]) throws(Failure) -> Output {
        let batch = state.withLock { state -> [(ticket: UInt64, item: Item)] in
            if state.done[ticket] != nil { return [] }
            defer { state.waiting.removeAll(keepingCapacity: true) }
            return state.waiting
        }
        if !batch.isEmpty {
            var results: [Result<Output, Failure>]
            do throws(Failure) {
                let outputs = try write(batch.map(\.item))
                precondition(
                    outputs.count == batch.count, "GroupCommit: write returned \(outputs.count) of \(batch.count)")
                results = outputs.map { .success($0) }
            } catch {
                results =
                    batch.count == 1
                    ? [.failure(error)]
                    : batch.map { entry in
                        Result { () throws(Failure) -> Output in
                            let outputs = try write([entry.item])
                            precondition(outputs.count == 1, "GroupCommit: write returned \(outputs.count) of 1")
                            return outputs[0]
                        }
                    }
            }
            state.withLock { state in
                for (entry, result) in zip(batch, results) { state.done[entry.ticket] = result }
            }
        }
        let result = state.withLock { $0.done.removeValue(forKey: ticket) }
        guard let result else { preconditionFailure("GroupCommit: ticket \(ticket) was never submitted") }
        return try result.get()
    }
}
