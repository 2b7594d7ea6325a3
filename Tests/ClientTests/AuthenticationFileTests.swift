import Foundation
import TestSupport
import Testing

/// The token file: one line, CRLF or LF, sent without its line end.
@Suite struct AuthenticationFileTests {
    @Test func aCRLFLineEndIsNotSentWithTheToken() throws {
        let blob = Blob("a.bin", size: 100)
        let server = try FaultServer { _ in .blob(blob.bytes) }
        let dir = TemporaryDirectory(prefix: "auth-crlf")
        try Fixtures.write(Array("tok\r\n".utf8), to: dir.file("token"))
        try Client.writeManifest([blob.record()], in: dir.path)
        let result = try Client.run(["fetch", "--url", server.url, "--authentication-file", "token"], in: dir.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(server.requests.map { $0.header("Authorization") } == ["Bearer tok"])
    }

    @Test func twoCRLFLinesAreRefused() throws {
        let dir = TemporaryDirectory(prefix: "auth-crlf")
        try Fixtures.write(Array("tok\r\nother\r\n".utf8), to: dir.file("token"))
        try Client.writeManifest([Blob("a.bin", size: 100).record()], in: dir.path)
        let result = try Client.run(
            ["fetch", "--url", "http://127.0.0.1:9", "--authentication-file", "token"], in: dir.path)
        #expect(result.status == 1)
        #expect(result.stderr.contains("must hold one line, got several"))
    }
}
