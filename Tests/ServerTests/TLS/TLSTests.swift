import Foundation
import Shared
import TestSupport
import Testing

/// HTTPS end to end (`serve --tls-cert --tls-key`): what plain HTTP does (GET, HEAD, Range, keep-alive, PUT with
/// `100-continue`, upload URLs) works the same over TLS, and the TLS policy holds (host name, versions, suites,
/// resumption).
@Suite struct TLSTests {
    @Test func getHeadRangeAndKeepAliveOverHTTPS() throws {
        let tls = try TLSHarness()
        #expect(tls.server.scheme == "https")
        // Over the 64 KiB inline limit, so the body goes out in SSL_write pieces read from the file.
        let big = Fixtures.randomBytes(3 * 1024 * 1024 + 123), small = Fixtures.randomBytes(1000)
        let bigDigest = try tls.harness.storeByHand(big, .public),
            smallDigest = try tls.harness.storeByHand(small, .public)
        let bigOut = tls.file("big.out"), smallOut = tls.file("small.out")
        let get = try tls.curl([
            "-v", "-o", bigOut, "\(tls.url)/sha512/\(bigDigest.hex)",
            "-o", smallOut, "\(tls.url)/sha512/\(smallDigest.hex)"
        ])
        #expect(get.status == 0, "\(get.stderr)")
        #expect(Fixtures.read(bigOut).map(Fixtures.digest) == bigDigest, "the big body differs")
        #expect(Fixtures.read(smallOut) == small)
        #expect(get.stderr.contains("Re-using existing connection"), "the second GET should reuse the TLS connection")
        #expect(get.stderr.contains("ALPN: server accepted http/1.1"))

        let rangeOut = tls.file("range.out")
        let ranged = try tls.curl([
            "-r", "100000-299999", "-o", rangeOut, "-w", "%{http_code}", "\(tls.url)/sha512/\(bigDigest.hex)"
        ])
        #expect(ranged.stdout == "206")
        #expect(Fixtures.read(rangeOut).map(Fixtures.digest) == Fixtures.digest(Array(big[100_000..<300_000])))

        let head = try tls.curl(["-I", "\(tls.url)/sha512/\(bigDigest.hex)"])
        #expect(head.stdout.hasPrefix("HTTP/1.1 200"), "\(head.stdout)")
        #expect(head.stdout.lowercased().contains("content-length: \(big.count)"))
    }

    @Test func pipelinedRequestsOverTLS() throws {
        let tls = try TLSHarness()
        let first = Fixtures.randomBytes(300), second = Fixtures.randomBytes(70_000)
        let firstDigest = try tls.harness.storeByHand(first, .public),
            secondDigest = try tls.harness.storeByHand(second, .public)
        // Three requests in one write: the server answers them in order on the one connection, then closes.
        let requests =
            "GET /sha512/\(firstDigest.hex) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            + "HEAD /sha512/\(secondDigest.hex) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            + "GET /sha512/\(secondDigest.hex) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        let result = try tls.sClient(["-quiet"], request: requests)
        let heads = result.stdout.components(separatedBy: "HTTP/1.1 200 OK").count - 1
        #expect(heads == 3, "\(result.stdout.prefix(400)) \(result.stderr)")
        #expect(result.stdout.components(separatedBy: "Content-Length: 70000").count - 1 == 2)
        #expect(
            waitFor(10) { tls.server.stderr().components(separatedBy: "ACCESS 127.0.0.1 - ").count - 1 == 3 },
            "\(tls.server.stderr())")
    }

    @Test func putOverHTTPSStreamsAndVerifies() throws {
        let tls = try TLSHarness(tokens: ["up": [.uploadPublic]])
        let token = try #require(tls.harness.tokens["up"])
        // 4 MiB: curl sends `Expect: 100-continue` and waits for the server's 100 over TLS.
        let bytes = Fixtures.randomBytes(4 * 1024 * 1024), digest = Fixtures.digest(bytes)
        let body = tls.file("body")
        try Fixtures.write(bytes, to: body)
        let put = try tls.curl([
            "-v", "-T", body, "-H", "Authorization: Bearer \(token)", "-w", "%{http_code}",
            "\(tls.url)/sha512/\(digest.hex)?visibility=public"
        ])
        #expect(put.stdout.hasSuffix("200"), "\(put.stdout) \(put.stderr)")
        #expect(put.stderr.contains("HTTP/1.1 100 Continue"))
        let stored = tls.harness.stored.bytes(digest, .public)
        #expect(stored?.count == bytes.count)
        #expect(stored.map(Fixtures.digest) == digest, "the stored bytes differ")

        let wrong = Fixtures.digest([1, 2, 3])
        let mismatch = try tls.curl([
            "-T", body, "-H", "Authorization: Bearer \(token)", "-w", "\n%{http_code}",
            "\(tls.url)/sha512/\(wrong.hex)?visibility=public"
        ])
        #expect(mismatch.stdout.hasSuffix("400"), "\(mismatch.stdout)")
        #expect(mismatch.stdout.contains(APIErrorName.digestMismatch.rawValue))
        #expect(!tls.harness.stored.contains(wrong, .public))
    }

    @Test func uploadURLsUseTheSchemeOfTheRequest() throws {
        let tls = try TLSHarness(tokens: ["up": [.uploadPublic]], arguments: ["--tls-port", "0"])
        let token = try #require(tls.harness.tokens["up"])
        let plainPort = try #require(tls.server.plainPort, "the listening line names the plain port too")
        #expect(plainPort != tls.server.port)
        let file = APIFile("a.bin", size: 2000)
        let batch = tls.file("batch.json")
        try Fixtures.write(Array(JSONWriter.write(APIHarness.batch("Bug 1", [file])).utf8), to: batch)
        func putURL(_ base: String) throws -> String {
            let posted = try tls.curl([
                "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json",
                "--data-binary", "@\(batch)", "\(base)/upload"
            ])
            try #require(posted.status == 0, "\(posted.stderr)")
            let json = try JSONParser.parse(Array(posted.stdout.utf8))
            return try #require(json["result"]?["files"]?["a.bin"]?["put_url"]?.stringValue, "\(posted.stdout)")
        }
        let secure = try putURL(tls.url)
        #expect(secure.hasPrefix("https://127.0.0.1:\(tls.server.port)/sha512/\(file.digest.hex)?"), "\(secure)")
        let plain = try putURL("http://127.0.0.1:\(plainPort)")
        #expect(plain.hasPrefix("http://127.0.0.1:\(plainPort)/sha512/\(file.digest.hex)?"), "\(plain)")

        let body = tls.file("a.bin")
        try Fixtures.write(file.bytes, to: body)
        let put = try tls.curl(["-T", body, "-w", "%{http_code}", secure])
        #expect(put.stdout.hasSuffix("200"), "\(put.stdout) \(put.stderr)")
        #expect(tls.harness.stored.bytes(file.digest, .public) == file.bytes)
    }

    @Test func plainHTTPStaysOnPortBesideTLSPort() throws {
        let tls = try TLSHarness(arguments: ["--tls-port", "0", "--tls-ktls", "off"])
        #expect(
            tls.server.stderr().contains(
                "large GETs over TLS use SSL_write of 64 KiB pieces read from the file (no kernel TLS: --tls-ktls off)"),
            "\(tls.server.stderr())")
        let bytes = Fixtures.randomBytes(200_000)
        let digest = try tls.harness.storeByHand(bytes, .public)
        let plainPort = try #require(tls.server.plainPort)
        let plain = try RawHTTPClient(port: plainPort).request("GET", "/sha512/\(digest.hex)")
        #expect(plain.status == 200)
        #expect(Fixtures.digest(plain.body) == digest)
        let out = tls.file("out")
        let secure = try tls.curl(["-o", out, "\(tls.url)/sha512/\(digest.hex)"])
        #expect(secure.status == 0, "\(secure.stderr)")
        #expect(Fixtures.read(out).map(Fixtures.digest) == digest)
    }

    @Test func wrongHostNameIsRefusedByTheClient() throws {
        let tls = try TLSHarness()
        let digest = try tls.harness.storeByHand([1, 2, 3], .public)
        let port = tls.server.port
        let right = try tls.curl([
            "--resolve", "localhost:\(port):127.0.0.1", "https://localhost:\(port)/sha512/\(digest.hex)"
        ])
        #expect(right.status == 0, "\(right.stderr)")
        let wrong = try tls.curl([
            "--resolve", "wrong.example:\(port):127.0.0.1", "https://wrong.example:\(port)/sha512/\(digest.hex)"
        ])
        #expect(wrong.status == 60, "curl exit \(wrong.status): \(wrong.stderr)")  // CURLE_PEER_FAILED_VERIFICATION
        #expect(wrong.stderr.contains("wrong.example"))
        let untrusted = try ProcessRunner.run("/usr/bin/curl", ["-sS", "\(tls.url)/sha512/\(digest.hex)"])
        #expect(untrusted.status == 60, "without the CA the certificate is not trusted: \(untrusted.stderr)")
    }

    @Test func onlyTLS12And13WithModernSuites() throws {
        let tls = try TLSHarness()
        // The client allows TLS 1.1 (security level 0), so the refusal is the server's: a protocol_version alert.
        let old = try tls.sClient(["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
        #expect(old.status != 0)
        #expect(old.stderr.contains("alert protocol version"), "\(old.stderr)")
        let v12 = try tls.sClient(["-tls1_2"])
        #expect(v12.status == 0, "\(v12.stderr)")
        #expect(v12.stdout.contains("Protocol  : TLSv1.2"))
        #expect(
            v12.stdout.contains("Cipher is ECDHE-ECDSA-AES256-GCM-SHA384")
                || v12.stdout.contains("Cipher is ECDHE-ECDSA-CHACHA20-POLY1305"),
            "\(v12.stdout)")
        #expect(v12.stdout.contains("Compression: NONE"))
        let v13 = try tls.sClient(["-tls1_3", "-alpn", "http/1.1"])
        #expect(v13.status == 0, "\(v13.stderr)")
        #expect(v13.stdout.contains("New, TLSv1.3"))
        #expect(v13.stdout.contains("ALPN protocol: http/1.1"))
        // ECDHE with CBC (no AEAD) is a suite the client would take; the server refuses it.
        let cbc = try tls.sClient(["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"])
        #expect(cbc.status != 0)
        #expect(cbc.stderr.contains("handshake failure"), "\(cbc.stderr)")
    }

    @Test func ticketKeysRotate() throws {
        let tls = try TLSHarness(arguments: ["--tls-ticket-rotation", "4"])
        // A TLS 1.2 ticket starts with the 16-byte name of the key that sealed it.
        func keyName() throws -> String {
            let session = tls.file("session")
            try? FileManager.default.removeItem(atPath: session)
            let handshake = try tls.sClient(["-tls1_2", "-sess_out", session])
            try #require(handshake.status == 0, "\(handshake.stderr)")
            let text = try ProcessRunner.run("/usr/bin/openssl", ["sess_id", "-in", session, "-noout", "-text"])
            let line = try #require(
                text.stdout.split(separator: "\n").first { $0.contains("0000 - ") }, "\(text.stdout)")
            return String(line)
        }
        let first = try keyName(), second = try keyName()
        #expect(first == second, "two tickets issued together share a key")
        usleep(4_500_000)  // past the rotation interval: the next ticket gets a new key
        let third = try keyName()
        #expect(third != first)
    }

    @Test func sessionIDResumptionSurvivesAClientThatClosesWithoutCloseNotify() throws {
        let tls = try TLSHarness()
        // Python's ssl closes the socket without close_notify, as most HTTP clients (and sslyze) do; no tickets, so
        // the second connection can only resume from the server's session cache.
        let script = """
            import socket, ssl, sys
            ctx = ssl.create_default_context(cafile=sys.argv[1])
            ctx.options |= ssl.OP_NO_TICKET
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            def connect(session=None):
                s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[2]))), server_hostname="localhost", session=session)
                reused, session = s.session_reused, s.session
                s.close()
                return reused, session
            reused = []
            session = connect()[1]
            for _ in range(3):
                r, session = connect(session)
                reused.append(r)
            print(reused)
            """
        let result = try ProcessRunner.run(
            "/usr/bin/python3", ["-c", script, tls.certificates.caFile, String(tls.server.port)])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[True, True, True]", "\(result.stdout)")
    }

    @Test func sessionsResume() throws {
        let tls = try TLSHarness()
        for version in ["-tls1_2", "-tls1_3"] {
            let session = tls.file("session\(version)")
            let request = "GET /nothing HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            let first = try tls.sClient([version, "-sess_out", session], request: request)
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.contains("New, TLSv1."))
            let second = try tls.sClient([version, "-sess_in", session], request: request)
            #expect(second.status == 0, "\(second.stderr)")
            #expect(second.stdout.contains("Reused, TLSv1."), "\(version): \(second.stdout)")
        }
    }
}
