import CEvent

/// Owns one libevent `event_base`. Created on the starting thread, then used only by its loop thread.
final class EventBase {
    /// The `event_base *`.
    let pointer: OpaquePointer

    /// A new base; pthreads locking is switched on first so other threads may `event_active` its events.
    init() throws {
        guard libeventThreadingReady else { throw HTTPServerError(call: "evthread_use_pthreads", message: "failed") }
        guard let base = event_base_new() else {
            throw HTTPServerError(call: "event_base_new", message: "returned NULL")
        }
        pointer = base
    }

    deinit { event_base_free(pointer) }
}

/// Calls `evthread_use_pthreads()` exactly once per process (a lazily initialized global).
let libeventThreadingReady: Bool = evthread_use_pthreads() == 0
