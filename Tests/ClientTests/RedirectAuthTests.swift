import Foundation
import TestSupport
import Testing

/// Redirects are followed; the token goes only to the host and port it was meant for.
@Suite struct RedirectAuthTests {
    @Test func tokenDoesNotFollowARedirectToAnotherHost() throws {
        let blob = Blob("a.bin", size: 5000)
        let target = try Client.blobServer([blob])
        // `localhost` is another host name than `127.0.0.1`, and the port differs too.
        let redirector = try FaultServer { request in
            .respond(status: 302, headers: [("Location", "http://localhost:\(target.port)\(request.path)")], body: [])
        }
        let dir = TemporaryDirectory(prefix: "redirect")
        try Fixtures.write(Array("secret-token-123\n".utf8), to: dir.file("token"))
        try Client.writeManifest([blob.record()], in: dir.path)
        let result = try Client.run(["fetch", "--url", redirector.url, "--authentication-file", "token"], in: dir.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Client.holds(dir.path, "a.bin", blob.bytes))
        #expect(redirector.requests.first?.header("Authorization") == "Bearer secret-token-123")
        let followed = try #require(target.requests.first)
        #expect(followed.header("Authorization") == nil, "the token leaked to the redirect target")
        #expect(!result.stderr.contains("secret-token-123"))
    }

    @Test func tokenStaysOnASameOriginRedirect() throws {
        let blob = Blob("a.bin", size: 5000)
        let server = try FaultServer { request in
            request.path.hasPrefix("/moved")
                ? .blob(blob.bytes)
                : .respond(status: 301, headers: [("Location", "/moved\(request.path)")], body: [])
        }
        let dir = TemporaryDirectory(prefix: "redirect")
        try Fixtures.write(Array("tok".utf8), to: dir.file("token"))
        try Client.writeManifest([blob.record()], in: dir.path)
        let result = try Client.run(["fetch", "--url", server.url, "--authentication-file", "token"], in: dir.path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(server.requests.map { $0.header("Authorization") } == ["Bearer tok", "Bearer tok"])
    }
}
