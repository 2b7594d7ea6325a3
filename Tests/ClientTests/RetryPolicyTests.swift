import Testing

@testable import ClientCore

/// The client's retry schedule, in process: exponential backoff with jitter, capped, never shorter than a server's
/// `Retry-After`. (FetchFallbackTests checks the waits a real server's answers cause.)
@Suite struct RetryPolicyTests {
    @Test func backoffDoublesWithJitterAndIsCapped() {
        let policy = RetryPolicy(retries: 4, baseMilliseconds: 1_000)
        for (retry, full) in [(1, 1_000), (2, 2_000), (3, 4_000), (4, 8_000), (7, 60_000), (40, 60_000), (0, 1_000)] {
            for _ in 0..<50 {
                let delay = policy.delayMilliseconds(retry: retry, retryAfter: nil)
                #expect((full / 2)...full ~= delay, "retry \(retry): \(delay) ms")
            }
        }
        // Jitter: 50 draws of retry 3 are not all the same.
        #expect(Set((0..<50).map { _ in policy.delayMilliseconds(retry: 3, retryAfter: nil) }).count > 1)
        #expect(RetryPolicy(retries: 1, baseMilliseconds: 0).delayMilliseconds(retry: 5, retryAfter: nil) == 0)
        #expect(RetryPolicy(retries: 1, baseMilliseconds: 1).delayMilliseconds(retry: 1, retryAfter: nil) == 1)
    }

    @Test func aRetryAfterIsAFloorUpToFiveMinutes() {
        let policy = RetryPolicy(retries: 4, baseMilliseconds: 10)
        #expect(policy.delayMilliseconds(retry: 1, retryAfter: 3) == 3_000)
        #expect(policy.delayMilliseconds(retry: 1, retryAfter: 0) <= 10)
        #expect(policy.delayMilliseconds(retry: 1, retryAfter: 86_400) == RetryPolicy.maximumRetryAfter * 1_000)
        // The backoff wins when it is the longer wait.
        let slow = RetryPolicy(retries: 4, baseMilliseconds: 8_000)
        #expect(slow.delayMilliseconds(retry: 2, retryAfter: 1) >= 8_000)
    }

    @Test(
        arguments: [
            ("5", 5), (" 12\t", 12), ("0", 0), (nil, nil), ("", nil), ("-1", nil), ("1.5", nil),
            ("Wed, 21 Oct 2015 07:28:00 GMT", nil), ("99999999999999999999", nil)
        ] as [(String?, Int?)])
    func retryAfterValues(_ value: String?, _ expected: Int?) {
        #expect(RetryPolicy.parseRetryAfter(value) == expected, "\(value ?? "nil")")
    }
}
