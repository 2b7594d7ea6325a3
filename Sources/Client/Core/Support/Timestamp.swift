#if canImport(Glibc)
import Glibc
#endif

/// A file timestamp or clock reading to the nanosecond, comparable, in the kernel's `timespec` terms.
struct Timestamp: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Seconds since the epoch (negative before 1970: `utimensat` can set such an mtime).
    var seconds: Int
    /// Nanoseconds within the second, 0 ..< 1,000,000,000.
    var nanoseconds: Int

    init(seconds: Int, nanoseconds: Int) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    init(_ time: timespec) { self.init(seconds: time.tv_sec, nanoseconds: time.tv_nsec) }

    static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    /// Nanoseconds from `self` to `later` (negative when `later` is earlier), saturating far apart values.
    func nanoseconds(until later: Timestamp) -> Int64 {
        let seconds = Int64(clamping: later.seconds) &- Int64(clamping: seconds)
        guard abs(seconds) < 1_000_000 else { return seconds < 0 ? .min / 2 : .max / 2 }
        return seconds * 1_000_000_000 + Int64(later.nanoseconds - nanoseconds)
    }

    var description: String { "\(seconds).\(String(nanoseconds + 1_000_000_000).dropFirst())" }

    /// `CLOCK_REALTIME_COARSE`: the clock the kernel stamps file times from, read without a system call. A file
    /// changed after this reading gets a ctime no earlier than it (see `VerificationStamps`).
    static func coarseNow() -> Timestamp {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME_COARSE, &time)
        return Timestamp(time)
    }

    /// The coarse clock's resolution (one kernel tick: 1 to 10 ms).
    static func coarseResolution() -> Int64 {
        var time = timespec()
        guard clock_getres(CLOCK_REALTIME_COARSE, &time) == 0 else { return 10_000_000 }
        return max(1, Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec))
    }

    /// Sleeps for `nanoseconds` (nothing when not positive).
    static func sleep(nanoseconds: Int64) {
        guard nanoseconds > 0 else { return }
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
