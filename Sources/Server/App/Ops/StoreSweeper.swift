import Dispatch
import Storage

/// While `serve` runs: every `interval` seconds, removes the temp files of uploads no process is writing any more
/// (left by a crash of this or another server on the same root) and finds again store folders replaced behind the
/// server's back. Runs on its own serial queue, never on an event loop, so a large `.tmp/` delays no request.
///
/// Thread safety: `init` and `stop` are called by `serve`'s main thread; the timer's handler runs on `queue` only.
final class StoreSweeper {
    private let queue = DispatchQueue(label: "tooltool.sweeper", qos: .utility)
    private let timer: any DispatchSourceTimer

    /// Starts sweeping `store` every `interval` seconds, the first pass one interval from now.
    init(store: any BlobStore, interval: Double) {
        timer = DispatchSource.makeTimerSource(queue: queue)
        let nanoseconds = Int(interval * 1e9)
        timer.schedule(
            deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds),
            leeway: .nanoseconds(nanoseconds / 10))
        timer.setEventHandler { Self.pass(store) }
        timer.resume()
    }

    /// One pass; failures are logged and the next pass tries again.
    static func pass(_ store: any BlobStore) {
        do {
            let removed = try store.sweepTemporaryFiles()
            if removed > 0 { ServerLog.info("removed \(removed) stale temp file(s)") }
        } catch {
            ServerLog.error("sweeping stale temp files: \(error)")
        }
        store.refreshFolders()
    }

    /// Stops the timer and waits for a pass in progress to end.
    func stop() {
        timer.cancel()
        queue.sync {}
    }
}
