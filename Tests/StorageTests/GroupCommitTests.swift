import Foundation
import Shared
import Synchronization
import Testing

@testable import Storage

/// `GroupCommit`: writers arriving together share one write, a lone writer writes at once, and one bad item in a
/// group fails only its own writer.
@Suite struct GroupCommitTests {
    /// The write lock the group's callers hold around `complete` (as `SQLiteMetadataIndex` holds its connection).
    private final class Store: Sendable {
        let lock = Mutex<[[Int]]>([])
        let group = GroupCommit<Int, Int, IndexError>()

        /// Doubles `item`, writing it together with whatever else waits; a negative item is refused.
        func write(_ item: Int, pause: Double = 0) throws(IndexError) -> Int {
            let ticket = group.submit(item)
            return try lock.withLock { (writes) throws(IndexError) -> Int in
                try group.complete(ticket) { (items) throws(IndexError) -> [Int] in
                    writes.append(items)
                    if pause > 0 { Thread.sleep(forTimeInterval: pause) }
                    if items.contains(where: { $0 < 0 }) { throw IndexError.invalid("negative item in \(items)") }
                    return items.map { $0 * 2 }
                }
            }
        }
    }

    @Test func aLoneWriterWritesItsItemAloneAtOnce() throws {
        let store = Store()
        #expect(try store.write(21) == 42)
        #expect(try store.write(5) == 10)
        #expect(store.lock.withLock { $0 } == [[21], [5]])
    }

    /// Runs each of `bodies` on a thread of its own (not the two-thread cooperative pool: the writers block on the
    /// lock, as worker threads do) and waits for them all, the first started 50 ms before the others.
    private static func onThreads<T: Sendable>(
        _ first: @escaping @Sendable () -> T,
        _ others: [@Sendable () -> T]
    ) -> (T, [T]) {
        let results = Mutex<[Int: T]>([:])
        let done = DispatchGroup()
        for (index, body) in ([first] + others).enumerated() {
            done.enter()
            Thread {
                let value = body()
                results.withLock { $0[index] = value }
                done.leave()
            }.start()
            if index == 0 { Thread.sleep(forTimeInterval: 0.05) }
        }
        done.wait()
        let all = results.withLock { $0 }
        return (all[0]!, (1...others.count).map { all[$0]! })
    }

    @Test func writersArrivingDuringAWriteShareTheNextOne() throws {
        let store = Store()
        // The first writer holds the lock for 300 ms; the 16 arriving meanwhile share the next write.
        let (first, others) = Self.onThreads(
            { try? store.write(1000, pause: 0.3) },
            (0..<16).map { i in { try? store.write(i) } })
        #expect(first == 2000)
        #expect(others == (0..<16).map { $0 * 2 })
        let writes = store.lock.withLock { $0 }
        #expect(writes.flatMap { $0 }.sorted() == (Array(0..<16) + [1000]).sorted())
        #expect(writes.count <= 3, "the writers did not share: \(writes)")
    }

    @Test func oneBadItemInAGroupFailsOnlyItsOwnWriter() throws {
        let store = Store()
        let (first, others) = Self.onThreads(
            { try? store.write(1, pause: 0.3) },
            [2, -3, 4].map { i in { try? store.write(i) } })
        #expect(first == 2)
        #expect(others == [4, nil, 8])
        let writes = store.lock.withLock { $0 }
        #expect(writes.contains { $0.count == 3 }, "the three did not meet in one group: \(writes)")
    }
}
