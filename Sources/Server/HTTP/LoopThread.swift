import Glibc

/// A pthread running one `EventLoop` until it stops.
final class LoopThread {
    private var thread = pthread_t()

    /// Starts a thread that runs `loop`.
    ///
    /// The loop is handed over through `Unmanaged` rather than a closure because `EventLoop` is not `Sendable`: from
    /// here on only the new thread touches it (the client's `Threads.spawn` and `CurlLoop` start their threads the
    /// same way for their own types). A server that cannot get a thread for one of its loops stops at start with the
    /// reason; it never runs with a loop nobody drives (its share of the connections would hang) or joins a thread
    /// that does not exist.
    init(loop: EventLoop) {
        let context = Unmanaged.passRetained(loop).toOpaque()  // released by the thread when the loop returns
        let created = pthread_create(
            &thread, nil,
            { context in
                let loop = Unmanaged<EventLoop>.fromOpaque(context!).takeRetainedValue()
                loop.run()
                return nil
            }, context)
        guard created == 0 else {
            let reason = HTTPServerError.system("pthread_create", errno: created)
            fatalError("cannot start an event loop's thread: \(reason)")
        }
    }

    /// Waits for the loop to return.
    func join() { pthread_join(thread, nil) }
}
