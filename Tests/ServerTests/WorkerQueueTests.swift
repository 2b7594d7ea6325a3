import Foundation
import Synchronization
import Testing

@testable import ServerApp

/// The worker queue, in process: no more than its width of jobs at once, serial jobs in order, a wait for idle
/// that waits for what was queued.
@Suite struct WorkerQueueTests {
    final class Tally: Sendable {
        struct State {
            var running = 0
            var most = 0
            var done: [Int] = []
        }
        let state = Mutex(State())

        func run(_ n: Int, sleeping microseconds: UInt32) {
            state.withLock {
                $0.running += 1
                $0.most = max($0.most, $0.running)
            }
            usleep(microseconds)
            state.withLock {
                $0.running -= 1
                $0.done.append(n)
            }
        }
    }

    @Test func noMoreThanItsWidthRunAtOnceAndEveryJobRuns() {
        let worker = WorkerQueue(label: "test.worker", width: 4)
        let tally = Tally()
        for n in 0..<64 { worker.async { tally.run(n, sleeping: 5_000) } }
        worker.waitUntilIdle()
        let state = tally.state.withLock { $0 }
        #expect(state.done.count == 64, "waitUntilIdle returned before every job queued before it had finished")
        #expect(state.most == 4, "at most 4 at once, and 4 reached with 64 jobs waiting: \(state.most)")
        #expect(Set(state.done) == Set(0..<64))
    }

    @Test func serialJobsRunInOrderOneAtATimeBesideOthers() {
        let worker = WorkerQueue(label: "test.worker", width: 3)
        let first = worker.serial(), second = worker.serial()
        let a = Tally(), b = Tally(), others = Tally()
        for n in 0..<40 {
            first.async { a.run(n, sleeping: 500) }
            second.async { b.run(n, sleeping: 500) }
            worker.async { others.run(n, sleeping: 500) }
        }
        // The serial queues hand their next job over only when one ends, so wait until all 40 of each are done.
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, a.state.withLock({ $0.done.count }) < 40 || b.state.withLock({ $0.done.count }) < 40 {
            usleep(10_000)
        }
        worker.waitUntilIdle()
        #expect(a.state.withLock { $0.done } == Array(0..<40))
        #expect(b.state.withLock { $0.done } == Array(0..<40))
        #expect(a.state.withLock { $0.most } == 1 && b.state.withLock { $0.most } == 1)
        #expect(others.state.withLock { $0.done.count } == 40)
    }
}
