import CEvent

/// Owns one libevent `struct event`. Loop thread only, except `activate()` (thread-safe with pthreads locking).
final class Event {
    /// The `struct event *`.
    let pointer: OpaquePointer
    /// Kept so the base is freed only after its last event.
    private let base: EventBase

    /// `event_new` on `base` for `fd` (-1 for timers and wake-ups) with the `EV_*` flags in `what`.
    init(base: EventBase, fd: Int32, what: Int32, context: UnsafeMutableRawPointer?, callback: event_callback_fn) throws
    {
        guard let event = event_new(base.pointer, fd, Int16(what), callback, context) else {
            throw HTTPServerError(call: "event_new", message: "returned NULL")
        }
        pointer = event
        self.base = base
    }

    /// Makes the event pending, with a timeout in seconds when given (re-adding only moves the timeout).
    func add(timeout seconds: Double? = nil) {
        if let seconds {
            let clamped = max(seconds, 0.001)
            var tv = timeval(tv_sec: Int(clamped), tv_usec: Int((clamped - Double(Int(clamped))) * 1_000_000))
            event_add(pointer, &tv)
        } else {
            event_add(pointer, nil)
        }
    }

    /// Makes the event non-pending.
    func remove() { event_del(pointer) }

    /// Runs the callback soon on the loop thread; safe from any thread.
    func activate() { event_active(pointer, EV_READ, 0) }

    deinit { event_free(pointer) }
}
