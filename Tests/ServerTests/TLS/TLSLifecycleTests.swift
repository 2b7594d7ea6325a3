import Foundation
import Shared
import TestSupport
import Testing

/// HTTPS start-up checks, certificate reload on SIGHUP, and clients that misbehave on the TLS port (stalling,
/// flooding, speaking plain HTTP).
@Suite struct TLSLifecycleTests {
    @Test func badCertificatesStopStartUp() throws {
        let certificates = try TestCertificates()
        let root = TemporaryDirectory(prefix: "tlsbad")
        try TestIndex.register(root: root.path)
        let expired = try certificates.issue(name: "expired", commonName: "localhost", days: 0)
        let stray = try certificates.strayKey(name: "stray")
        let notPEM = root.file("not.pem")
        try Fixtures.write(Array("not a certificate\n".utf8), to: notPEM)
        let cases: [(cert: String, key: String, message: String)] = [
            (expired.certificate, expired.key, "the TLS certificate \(expired.certificate) expired on"),
            (
                certificates.certificate, stray,
                "the TLS key \(stray) does not match the certificate \(certificates.certificate)"
            ),
            (
                root.file("missing.pem"), certificates.key,
                "cannot read the TLS certificate file \(root.file("missing.pem")): No such file"
            ),
            (notPEM, certificates.key, "cannot load the TLS certificate \(notPEM)")
        ]
        for item in cases {
            let result = try ServerCommandLine.run(
                [
                    "serve", "--root", root.path, "--port", "0",
                    "--tls-cert", item.cert, "--tls-key", item.key
                ], timeout: 30)
            #expect(result.status == 1, "\(item.message): exit \(result.status)")
            #expect(result.stderr.contains("error: cannot serve HTTPS: " + item.message), "\(result.stderr)")
            #expect(!result.stdout.contains("listening"))
        }
        let alone = try ServerCommandLine.run(
            ["serve", "--root", root.path, "--port", "0", "--tls-port", "0"], timeout: 30)
        #expect(alone.status != 0)
        #expect(alone.stderr.contains("--tls-port needs --tls-cert and --tls-key"))
    }

    @Test func sighupReloadsTheCertificateWhileADownloadRuns() throws {
        let tls = try TLSHarness()
        let bytes = Fixtures.randomBytes(24 * 1024 * 1024)
        let digest = try tls.harness.storeByHand(bytes, .public)
        let out = tls.file("download")
        // About 4 s at this rate: the reload happens while it runs.
        let download = Process()
        download.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        download.arguments = [
            "-sS", "-v", "--cacert", tls.certificates.caFile, "--limit-rate", "6M", "-o", out,
            "\(tls.url)/sha512/\(digest.hex)"
        ]
        let downloadLog = tls.file("download.log")
        _ = FileManager.default.createFile(atPath: downloadLog, contents: nil)
        download.standardError = FileHandle(forWritingAtPath: downloadLog)
        try download.run()
        try #require(
            waitFor(20) {
                (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int).map { $0 > 1_000_000 } ?? false
            },
            "the download did not start")

        // Replace the files in place (a renewal) with a certificate for another name, then SIGHUP.
        let renewed = try tls.certificates.issue(name: "renewed", commonName: "renewed")
        try FileManager.default.removeItem(atPath: tls.certificates.certificate)
        try FileManager.default.copyItem(atPath: renewed.certificate, toPath: tls.certificates.certificate)
        try FileManager.default.removeItem(atPath: tls.certificates.key)
        try FileManager.default.copyItem(atPath: renewed.key, toPath: tls.certificates.key)
        kill(tls.server.pid, SIGHUP)
        try #require(
            waitFor(10) { tls.server.stderr().contains("SIGHUP: reloaded the TLS certificate: /CN=renewed") },
            "\(tls.server.stderr())")
        let fresh = try tls.curl(["-v", "-o", "/dev/null", "\(tls.url)/sha512/\(digest.hex)"])
        #expect(fresh.status == 0)
        #expect(fresh.stderr.contains("subject: CN=renewed"), "a new connection gets the new certificate")

        // The download goes on over its connection, on the old certificate, to the last byte.
        let finished = waitFor(60) { !download.isRunning }
        if !finished { download.terminate() }
        download.waitUntilExit()
        #expect(finished && download.terminationStatus == 0)
        #expect(Fixtures.read(out).map(Fixtures.digest) == digest, "the body differs")
        let log = (try? String(contentsOfFile: downloadLog, encoding: .utf8)) ?? ""
        #expect(log.contains("subject: CN=localhost"))

        // A bad new key keeps the certificate in use, and the log says why.
        try Fixtures.write(Array("garbage\n".utf8), to: tls.certificates.key)
        kill(tls.server.pid, SIGHUP)
        try #require(
            waitFor(10) {
                tls.server.stderr().contains("SIGHUP: kept the old TLS certificate: cannot load the TLS key")
            },
            "\(tls.server.stderr())")
        let after = try tls.curl(["-v", "-o", "/dev/null", "\(tls.url)/sha512/\(digest.hex)"])
        #expect(after.status == 0)
        #expect(after.stderr.contains("subject: CN=renewed"))
        #expect(tls.server.isRunning)
    }

    @Test func stalledClientsAreClosedAtTheHeadDeadline() throws {
        let tls = try TLSHarness(arguments: ["--header-timeout", "2"])
        // One handshakes, then sends nothing: s_client ends only when the server closes the connection.
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        client.arguments = [
            "s_client", "-brief", "-connect", "127.0.0.1:\(tls.server.port)", "-CAfile", tls.certificates.caFile
        ]
        let input = Pipe()  // kept open: the client never sends a request
        client.standardInput = input
        let log = tls.file("s_client.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        client.standardError = FileHandle(forWritingAtPath: log)
        client.standardOutput = FileHandle(forWritingAtPath: log)
        try client.run()
        // Another connects and never starts the handshake.
        let silent = try RawHTTPClient(port: tls.server.port, timeout: 20)

        let closed = waitFor(30) { !client.isRunning }
        if !closed { client.terminate() }
        client.waitUntilExit()
        try? input.fileHandleForWriting.close()
        #expect(closed, "the server should close a connection that sends no request within --header-timeout")
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(text.contains("CONNECTION ESTABLISHED"), "\(text)")
        #expect(silent.isClosedByPeer())
    }

    @Test func handshakeFloodLeavesTheServerServing() throws {
        let tls = try TLSHarness()
        let bytes = Fixtures.randomBytes(100_000)
        let digest = try tls.harness.storeByHand(bytes, .public)
        let before = openDescriptors(tls.server.pid)
        // 200 connections at once: a ClientHello cut short, garbage after a handshake record header, or nothing.
        var clients: [RawHTTPClient] = []
        for index in 0..<200 {
            let client = try RawHTTPClient(port: tls.server.port)
            switch index % 3 {
            case 0:
                client.send(
                    [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03] + Fixtures.randomBytes(40))
            case 1: client.send([0x16, 0x03, 0x01, 0x00, 0x30] + Fixtures.randomBytes(48))
            default: break
            }
            clients.append(client)
        }
        #expect(tls.server.isRunning)
        clients.removeAll()  // abandoned: every socket closes
        #expect(
            waitFor(20) { openDescriptors(tls.server.pid) <= before + 2 },
            "descriptors: \(before) before, \(openDescriptors(tls.server.pid)) after the flood")
        let out = tls.file("out")
        let get = try tls.curl(["-o", out, "\(tls.url)/sha512/\(digest.hex)"])
        #expect(get.status == 0, "\(get.stderr)")
        #expect(Fixtures.read(out).map(Fixtures.digest) == digest, "the body differs")
    }

    @Test func plainHTTPOnTheTLSPortGetsAPlainRefusal() throws {
        let tls = try TLSHarness()
        let client = try RawHTTPClient(port: tls.server.port)
        let response = try client.request("GET", "/sha512/\(Fixtures.digest([1]).hex)")
        #expect(response.status == 400)
        #expect(response.text.contains("a plain HTTP request was sent to the HTTPS port"))
        #expect(client.isClosedByPeer())
    }

    @Test func gracefulStopEndsTLSConnectionsWithCloseNotify() throws {
        let tls = try TLSHarness()
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        client.arguments = [
            "s_client", "-connect", "127.0.0.1:\(tls.server.port)", "-CAfile", tls.certificates.caFile, "-msg"
        ]
        let input = Pipe()
        client.standardInput = input
        let log = tls.file("s_client.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        client.standardOutput = FileHandle(forWritingAtPath: log)
        client.standardError = FileHandle(forWritingAtPath: log)
        try client.run()
        // A request answered first, so the handshake is done on the server's side too.
        input.fileHandleForWriting.write(Data("GET /nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
        try #require(
            waitFor(20) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("HTTP/1.1 404") },
            "\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        #expect(tls.server.stop() == 0)
        let ended = waitFor(20) { !client.isRunning }
        if !ended { client.terminate() }
        client.waitUntilExit()
        try? input.fileHandleForWriting.close()
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        // s_client -msg prints the alert it receives: close_notify is level 1 (warning), description 0.
        #expect(text.contains("<<< TLS 1.3, Alert [length 0002], warning close_notify"), "\(text.suffix(600))")
    }
}

/// Polls `condition` every 50 ms for up to `seconds`; true once it holds.
func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}

/// How many descriptors process `pid` has open.
func openDescriptors(_ pid: Int32) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
}
