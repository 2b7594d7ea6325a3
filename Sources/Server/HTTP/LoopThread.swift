import Glibc

/// A pthread running one `EventLoop` until it stops.
final class LoopThread {
    private var thread = pthread_t()

    /// Starts a thread that runs `loop`.
    init(loop: EventLoop) {
        let context = Unmanaged.passRetained(loop).toOpaque()  // released by the thread when the loop returns
        pthread_create(
            &thread, nil,
            { context in
                let loop = Unmanaged<EventLoop>.fromOpaque(context!).takeRetainedValue()
                loop.run()
                return nil
            }, context)
    }

    /// Waits for the loop to return.
    func join() { pthread_join(thread, nil) }
}
