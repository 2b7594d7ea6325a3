import Foundation
import S3
import TestSupport
import Testing

/// The client's retries and failure reports, through `S3FaultProxy` in front of moto (authentication on).
@Suite(.serialized) struct S3RetryTests {
    let moto: MotoServer
    let proxy: S3FaultProxy
    let bucket: String
    let client: S3Client

    init() throws {
        moto = try MotoServer.shared.get()
        bucket = try moto.makeBucket()
        proxy = try S3FaultProxy(upstreamPort: moto.port)
        client = try moto.client(bucket: bucket, endpoint: proxy.endpoint, firstBackoff: 0.01)
    }

    @Test func slowDownTwiceThenSuccessStores() throws {
        defer { proxy.stop() }
        proxy.add(.init("PUT", "/retried", count: 2, .status(503, code: "SlowDown")))
        let body = S3ClientTests.bytes(2000)
        try client.putObject(key: "retried", body: body)
        #expect(proxy.log.count == 2, "the proxy applied \(proxy.log)")
        #expect(try client.headObject(key: "retried")?.size == 2000)
    }

    @Test func completionsRunOnTheLoopThread() throws {
        defer { proxy.stop() }
        #expect(!client.isOnLoopThread)
        let client = self.client
        let onLoop = try client.wait { (done: @escaping @Sendable (Result<Bool, S3Error>) -> Void) in
            client.headBucket { result in done(result.map { client.isOnLoopThread }) }
        }
        #expect(onLoop)
    }

    @Test func slowDownBeyondTheAttemptsFails() throws {
        defer { proxy.stop() }
        proxy.add(.init("PUT", "/refused", count: 10, .status(503, code: "SlowDown")))
        #expect {
            try client.putObject(key: "refused", body: [1, 2, 3])
        } throws: { error in
            guard case S3Error.service(let status, let code, _) = error else { return false }
            return status == 503 && code == "SlowDown"
        }
        #expect(proxy.log.count == 4)  // maxAttempts, the default
        #expect(try moto.keys(bucket).isEmpty)
    }

    @Test func aCutMidBodyIsAFailureNotATruncation() throws {
        defer { proxy.stop() }
        let body = S3ClientTests.bytes(1 << 20)
        try client.putObject(key: "cut", body: body)
        proxy.add(.init("GET", "/cut", count: 1, .cut(afterBytes: 8192)))
        let sink = CollectingSink(pauseEvery: 0)
        client.getObject(key: "cut", range: nil, sink: sink)
        let result = try #require(sink.wait(seconds: 60))
        #expect(throws: S3Error.self) { try result.get() }
        #expect(!sink.bytes.isEmpty && sink.bytes.count < body.count, "got \(sink.bytes.count) bytes")
    }
}
