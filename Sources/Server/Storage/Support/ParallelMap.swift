import Dispatch
import Synchronization

/// Runs `count` independent jobs on at most `width` threads at once and gives back their results in order.
enum ParallelMap {
    static func run<T: Sendable>(_ count: Int, width: Int, _ job: @Sendable (Int) -> T) -> [T] {
        if width <= 1 || count <= 1 { return (0..<count).map(job) }
        let results = Mutex<[T?]>(Array(repeating: nil, count: count))
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: min(width, count)) { _ in
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard i < count else { return }
                let value = job(i)
                results.withLock { $0[i] = value }
            }
        }
        return results.withLock { $0.map { $0! } }
    }
}
