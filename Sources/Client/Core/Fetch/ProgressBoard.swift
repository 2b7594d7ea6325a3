import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Counts what a fetch does, for the live display on a terminal and the summary line at the end.
///
/// Any worker thread may report; the display thread reads. All state is behind one lock.
final class ProgressBoard: Sendable {
    /// Where a file came from.
    enum Source: Sendable { case present, cache, download, failed }

    private struct State {
        var totalFiles = 0
        var totalBytes: Int64 = 0
        var active: [String: (now: Int64, size: Int64)] = [:]
        var finishedBytes: Int64 = 0
        var downloadedBytes: Int64 = 0
        var counts: [Source: Int] = [:]
        var finishedFiles = 0
        var unpackRefused = 0
        var unpackFailed = 0
    }

    private let state = Mutex(State())
    private let started = ProgressBoard.now()
    private let stop = Atomic<Bool>(false)

    /// Makes a board for `files` files totalling `bytes`.
    init(files: Int, bytes: Int64) {
        state.withLock {
            $0.totalFiles = files; $0.totalBytes = bytes
        }
    }

    /// Seconds since an arbitrary origin (monotonic).
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// A download of `name` has `bytes` of `size` on disk.
    func update(_ name: String, bytes: Int64, size: Int64) {
        state.withLock { $0.active[name] = (bytes, size) }
    }

    /// `name` is done, from `source`.
    func finished(_ name: String, size: Int64, source: Source) {
        state.withLock { state in
            state.active[name] = nil
            state.finishedFiles += 1
            state.finishedBytes += size
            state.counts[source, default: 0] += 1
            if source == .download { state.downloadedBytes += size }
        }
    }

    /// A file in place was not unpacked: its archive was `refused` by the entry policy, or unpacking failed.
    func notUnpacked(refused: Bool) {
        state.withLock { state in
            if refused { state.unpackRefused += 1 } else { state.unpackFailed += 1 }
        }
    }

    /// Redraws the status line every 200 ms on a terminal until `stopDisplay` is called; returns the thread.
    func startDisplay() -> pthread_t? {
        guard Terminal.shared.stderrIsTTY else { return nil }
        return Threads.spawn { [self] in
            while !stop.load(ordering: .relaxed) {
                Terminal.shared.setStatusLine(statusLine())
                RetryPolicy.sleep(milliseconds: 200)
            }
            Terminal.shared.setStatusLine("")
        }
    }

    /// Stops the display started by `startDisplay`.
    func stopDisplay(_ thread: pthread_t?) {
        stop.store(true, ordering: .relaxed)
        if let thread { Threads.join(thread) }
    }

    /// The live line: files, bytes, rate, time left, and the files in flight.
    func statusLine() -> String {
        let elapsed = max(ProgressBoard.now() - started, 0.001)
        return state.withLock { state in
            let inFlight = state.active.values.reduce(Int64(0)) { $0 + $1.now }
            let done = state.finishedBytes + inFlight
            let rate = Double(state.downloadedBytes + inFlight) / elapsed
            let left = rate > 0 ? Double(state.totalBytes - done) / rate : 0
            var line =
                "[\(state.finishedFiles)/\(state.totalFiles)] \(ProgressBoard.bytes(done))/\(ProgressBoard.bytes(state.totalBytes))"
            line += " \(ProgressBoard.bytes(Int64(rate)))/s ETA \(Int(left.rounded(.up)))s"
            for (name, progress) in state.active.sorted(by: { $0.key < $1.key }).prefix(3) {
                let percent = progress.size > 0 ? progress.now * 100 / progress.size : 100
                line += " | \(name.prefix(24)) \(percent)%"
            }
            return line
        }
    }

    /// The one summary line logged at INFO at the end; files whose unpacking was refused or failed count as
    /// fetched (they are in place and verified) and are counted again, only when there are any.
    func summary() -> String {
        let elapsed = max(ProgressBoard.now() - started, 0.001)
        return state.withLock { state in
            let rate = Double(state.downloadedBytes) / elapsed
            let ok = state.finishedFiles - state.counts[.failed, default: 0]
            return "fetched \(ok) of \(state.totalFiles) files in \(String(format1: elapsed)) s: "
                + "\(state.counts[.download, default: 0]) downloaded (\(ProgressBoard.bytes(state.downloadedBytes)), "
                + "\(ProgressBoard.bytes(Int64(rate)))/s), \(state.counts[.cache, default: 0]) from the cache, "
                + "\(state.counts[.present, default: 0]) already present, \(state.counts[.failed, default: 0]) failed"
                + (state.unpackRefused > 0 ? ", \(state.unpackRefused) unpack refused" : "")
                + (state.unpackFailed > 0 ? ", \(state.unpackFailed) unpack failed" : "")
        }
    }

    /// Bytes for people: `512 B`, `1.5 MB`.
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(count) B" : "\(String(format1: value)) \(units[unit])"
    }
}

extension String {
    /// A number with one decimal, without Foundation.
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(abs(tenths % 10))"
    }
}
