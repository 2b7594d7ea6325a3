import Synchronization

/// Results written by several threads, each to its own slot, read once they are all done.
public final class ResultBox<T: Sendable>: Sendable {
    private let slots: Mutex<[T?]>

    /// `count` empty slots.
    public init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }

    /// Fills slot `index`.
    public func set(_ index: Int, _ value: T) { slots.withLock { $0[index] = value } }

    /// Every slot's value, in order; each slot must have been filled.
    public var values: [T] {
        slots.withLock { slots in
            slots.enumerated().map { index, value in
                guard let value else { preconditionFailure("ResultBox: slot \(index) was never set") }
                return value
            }
        }
    }
}
