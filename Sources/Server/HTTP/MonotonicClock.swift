import Glibc

/// Seconds on the monotonic clock, for timeouts (never goes back when the wall clock is changed).
func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1_000_000_000
}

/// Seconds since 1970 on the wall clock, for the access log (`clock_gettime` through the vDSO, not Foundation's
/// `Date.now`, on the per-request path).
func wallClockNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1_000_000_000
}
