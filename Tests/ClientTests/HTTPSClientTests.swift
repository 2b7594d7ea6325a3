import Foundation
import TestSupport
import Testing

/// `tooltool` over https with a private CA (issue 16): `--cacert` and the CA variables, and certificate failures
/// reported as such, never retried, with the next `--url` still asked. The https side is our own server
/// (`serve --tls-cert`) or, where the test counts the handshakes a client aborted (its error log has them), nginx
/// serving a store's files; certificates come from a throwaway CA (`TestCertificates`).
@Suite struct HTTPSClientTests {
    /// No CA variable inherited from the machine (this one sets `SSL_CERT_FILE` to the system's bundle).
    static let noCA = ["SSL_CERT_FILE": "", "CURL_CA_BUNDLE": "", "REQUESTS_CA_BUNDLE": ""]

    /// A store holding `blobs` (public), served over https by nginx with a certificate of `ca` for `hosts`.
    struct Site {
        let store = TemporaryDirectory(prefix: "store")
        let nginx: NginxServer

        init(_ blobs: [Blob], ca: TestCertificates, hosts: [String] = ["127.0.0.1"], expired: Bool = false) throws {
            for blob in blobs { try Fixtures.write(blob.bytes, to: store.file("sha512/\(blob.digest.hex)")) }
            // days 0: it ends the moment it is made, so it has expired by the time a client sees it.
            let issued = try ca.issue(
                name: "site-\(hosts[0])\(expired ? "-expired" : "")", commonName: hosts[0],
                hosts: hosts, days: expired ? 0 : 2)
            nginx = try NginxServer(certificate: issued.certificate, key: issued.key, content: .folder(store.path))
        }
    }

    /// Our server over plain http on a store holding `blob` (public): the `--url` a fetch falls back to.
    struct PlainServer {
        let root = TemporaryDirectory(prefix: "plain")
        let server: ServerProcess

        init(_ blob: Blob) throws {
            try Fixtures.write(blob.bytes, to: root.file("public/sha512/\(blob.digest.hex)"))
            server = try ServerProcess(root: root.path)
        }

        /// `http://127.0.0.1:PORT`.
        var url: String { server.url }
        /// Stops the server.
        func stop() { server.stop() }
    }

    /// The `WARNING - NAME: URL failed: ...` lines of a fetch: one per attempt on a server.
    static func attempts(_ stderr: String, _ url: String) -> [Substring] {
        stderr.split(separator: "\n").filter { $0.hasPrefix("WARNING - ") && $0.contains(": \(url) failed: ") }
    }

    @Test func uploadAndFetchOverHTTPSTrustingAPrivateCA() throws {
        let ca = try TestCertificates()
        let root = TemporaryDirectory(prefix: "server")
        let work = TemporaryDirectory(prefix: "client")
        let server = try ServerProcess(root: root.path, arguments: ["--tls-cert", ca.certificate, "--tls-key", ca.key])
        defer { server.stop() }
        try #require(server.url.hasPrefix("https://"))
        let token = try ProcessRunner.run(
            Binaries.server,
            [
                "token", "create", "--user", "tls", "--root", root.path,
                "--permission", "upload.public"
            ])
        try #require(token.status == 0, "\(token.stderr)")
        try Fixtures.write(Array(token.stdout.utf8), to: work.file("token"))
        let blob = Blob("sdk.tar.gz", size: 3_000_000)
        try Fixtures.write(blob.bytes, to: work.file(blob.name))
        #expect(try Client.run(["add", "--visibility", "public", blob.name], in: work.path).status == 0)

        let upload = try Client.run(
            [
                "upload", "--url", server.url, "--cacert", ca.caFile, "--message", "over TLS",
                "--authentication-file", work.file("token")
            ], in: work.path, environment: Self.noCA)
        #expect(upload.status == 0, "\(upload.stderr)")
        #expect(Client.file(root.path, "public/sha512/\(blob.digest.hex)") == blob.bytes)

        // Fetch, trusting the CA through each variable in turn (alone).
        for variable in ["SSL_CERT_FILE", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE"] {
            let dest = TemporaryDirectory(prefix: "dest")
            try FileManager.default.copyItem(atPath: work.file("manifest.tt"), toPath: dest.file("manifest.tt"))
            let environment = Self.noCA.merging([variable: ca.caFile]) { $1 }
            let fetch = try Client.run(["fetch", "--url", server.url], in: dest.path, environment: environment)
            #expect(fetch.status == 0, "\(variable): \(fetch.stderr)")
            #expect(
                fetch.stderr.contains("\(blob.name): downloaded from \(server.url)"), "\(variable): \(fetch.stderr)")
            #expect(Client.holds(dest.path, blob.name, blob.bytes))
        }
    }

    @Test func theCACertOptionWinsOverTheVariablesAndSSLCertFileOverTheOthers() throws {
        let ca = try TestCertificates(), other = try TestCertificates()
        let blob = Blob("a.bin", size: 10_000)
        let site = try Site([blob], ca: ca)
        let cases: [(arguments: [String], environment: [String: String], trusted: Bool)] = [
            (["--cacert", ca.caFile], ["SSL_CERT_FILE": other.caFile, "CURL_CA_BUNDLE": other.caFile], true),
            (["--cacert", other.caFile], ["SSL_CERT_FILE": ca.caFile], false),
            ([], ["SSL_CERT_FILE": ca.caFile, "CURL_CA_BUNDLE": other.caFile], true),
            ([], ["SSL_CERT_FILE": other.caFile, "CURL_CA_BUNDLE": ca.caFile], false),
            ([], ["CURL_CA_BUNDLE": ca.caFile, "REQUESTS_CA_BUNDLE": other.caFile], true),
            ([], ["SSL_CERT_FILE": "", "CURL_CA_BUNDLE": "", "REQUESTS_CA_BUNDLE": ca.caFile], true)
        ]
        for (arguments, environment, trusted) in cases {
            let dir = TemporaryDirectory(prefix: "fetch")
            try Client.writeManifest([blob.record()], in: dir.path)
            let result = try Client.run(
                ["fetch", "--url", site.nginx.url, "--retries", "0"] + arguments, in: dir.path,
                environment: Self.noCA.merging(environment) { $1 })
            #expect(result.status == (trusted ? 0 : 1), "\(arguments) \(environment): \(result.stderr)")
            #expect(Client.holds(dir.path, blob.name, trusted ? blob.bytes : nil))
        }
    }

    @Test func aCertificateFromAnotherCAIsReportedOnceAndTheNextURLServes() throws {
        let ca = try TestCertificates(), other = try TestCertificates()
        let blob = Blob("a.bin", size: 100_000)
        let site = try Site([blob], ca: ca)
        let plain = try PlainServer(blob)
        defer { plain.stop() }

        // Alone: one handshake (nginx saw the client's "unknown CA" alert once), a message naming the server, the
        // CA file in use and the likely fix, exit 1, in spite of three retries allowed.
        let dir = TemporaryDirectory(prefix: "fetch")
        try Client.writeManifest([blob.record()], in: dir.path)
        let alone = try Client.run(
            ["fetch", "--url", site.nginx.url, "--retries", "3", "--cacert", other.caFile],
            in: dir.path, environment: Self.noCA)
        #expect(alone.status == 1)
        let expected =
            "certificate verify failed for \(site.nginx.url): SSL certificate problem: unable to get local "
            + "issuer certificate (is --cacert right? trusting \(other.caFile) (from --cacert))"
        #expect(alone.stderr.contains(expected), "\(alone.stderr)")
        #expect(Self.attempts(alone.stderr, site.nginx.url).count == 1, "\(alone.stderr)")
        #expect(alone.stderr.contains("failed to fetch: a.bin"))
        #expect(site.nginx.failedHandshakes() == 1)
        #expect(site.nginx.requests().isEmpty)

        // With the system's CAs (no variable): the message says how to trust a private CA.
        let system = try Client.run(
            ["fetch", "--url", site.nginx.url, "--retries", "3"], in: dir.path, environment: Self.noCA)
        #expect(system.status == 1)
        #expect(
            system.stderr.contains("trusting the system's CA store; a private CA needs --cacert FILE or SSL_CERT_FILE"),
            "\(system.stderr)")
        #expect(Self.attempts(system.stderr, site.nginx.url).count == 1, "\(system.stderr)")

        // Then the next --url at once: the file comes from the plain server, the https one asked once.
        let fallback = try Client.run(
            [
                "fetch", "--url", site.nginx.url, "--url", plain.url, "--retries", "3",
                "--cacert", other.caFile
            ], in: dir.path, environment: Self.noCA)
        #expect(fallback.status == 0, "\(fallback.stderr)")
        #expect(Client.holds(dir.path, blob.name, blob.bytes))
        #expect(fallback.stderr.contains("a.bin: downloaded from \(plain.url)"), "\(fallback.stderr)")
        #expect(Self.attempts(fallback.stderr, site.nginx.url).count == 1, "\(fallback.stderr)")
        #expect(site.nginx.failedHandshakes() == 3)
    }

    @Test(arguments: [false, true])
    func aCertificateForAnotherHostOrExpiredIsNotRetried(expired: Bool) throws {
        let ca = try TestCertificates()
        let blob = Blob("a.bin", size: 1000)
        let site = try Site([blob], ca: ca, hosts: expired ? ["127.0.0.1"] : ["tooltool.example"], expired: expired)
        let dir = TemporaryDirectory(prefix: "fetch")
        try Client.writeManifest([blob.record()], in: dir.path)
        let result = try Client.run(
            ["fetch", "--url", site.nginx.url, "--retries", "3", "--cacert", ca.caFile],
            in: dir.path, environment: Self.noCA)
        #expect(result.status == 1)
        #expect(result.stderr.contains("certificate verify failed for \(site.nginx.url): "), "\(result.stderr)")
        let hint =
            expired
            ? "(the server's certificate (or one in its chain) has expired)"
            : "(the certificate is not issued for this host name: use one it names in --url)"
        #expect(result.stderr.contains(hint), "\(result.stderr)")
        #expect(Self.attempts(result.stderr, site.nginx.url).count == 1, "\(result.stderr)")
        #expect(site.nginx.requests().isEmpty)
        #expect(Client.holds(dir.path, blob.name, nil))
    }

    @Test func httpsToAPlainHTTPPortIsNamedAndNotRetried() throws {
        let blob = Blob("a.bin", size: 1000)
        let plain = try PlainServer(blob)
        defer { plain.stop() }
        let url = "https://127.0.0.1:\(plain.server.port)"
        let dir = TemporaryDirectory(prefix: "fetch")
        try Client.writeManifest([blob.record()], in: dir.path)
        let result = try Client.run(["fetch", "--url", url, "--retries", "3"], in: dir.path, environment: Self.noCA)
        #expect(result.status == 1)
        #expect(result.stderr.contains("TLS handshake with \(url) failed: "), "\(result.stderr)")
        #expect(result.stderr.contains("(does that port speak https, or plain http?)"), "\(result.stderr)")
        #expect(Self.attempts(result.stderr, url).count == 1, "\(result.stderr)")
    }

    @Test func anUnreadableCAFileIsNamedWithItsSourceAndTheNextURLServes() throws {
        let ca = try TestCertificates()
        let blob = Blob("a.bin", size: 1000)
        let site = try Site([blob], ca: ca)
        let plain = try PlainServer(blob)
        defer { plain.stop() }
        let dir = TemporaryDirectory(prefix: "fetch")
        try Client.writeManifest([blob.record()], in: dir.path)
        let missing = dir.file("no-such-ca.pem")
        let result = try Client.run(
            ["fetch", "--url", site.nginx.url, "--url", plain.url, "--retries", "3"], in: dir.path,
            environment: Self.noCA.merging(["CURL_CA_BUNDLE": missing]) { $1 })
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stderr.contains("cannot use the CA file \(missing) (from CURL_CA_BUNDLE) for \(site.nginx.url): "),
            "\(result.stderr)")
        #expect(Self.attempts(result.stderr, site.nginx.url).count == 1, "\(result.stderr)")
        #expect(Client.holds(dir.path, blob.name, blob.bytes))
    }

    @Test func uploadToAnUntrustedServerFailsNamingItWithoutSending() throws {
        let ca = try TestCertificates()
        let root = TemporaryDirectory(prefix: "server")
        let work = TemporaryDirectory(prefix: "client")
        let server = try ServerProcess(root: root.path, arguments: ["--tls-cert", ca.certificate, "--tls-key", ca.key])
        defer { server.stop() }
        try Fixtures.write(Array("not-a-real-token".utf8), to: work.file("token"))
        try Fixtures.write(Fixtures.randomBytes(1000), to: work.file("a.bin"))
        #expect(try Client.run(["add", "--visibility", "public", "a.bin"], in: work.path).status == 0)
        let upload = try Client.run(
            [
                "upload", "--url", server.url, "--message", "m", "--authentication-file",
                work.file("token")
            ], in: work.path, environment: Self.noCA)
        #expect(upload.status == 1)
        #expect(
            upload.stderr.contains("POST \(server.url)/upload: certificate verify failed for \(server.url): "),
            "\(upload.stderr)")
        #expect(upload.stdout.isEmpty)
        // Not one request reached the server (its access log names each).
        let log = (try? String(contentsOfFile: server.stderrPath, encoding: .utf8)) ?? ""
        #expect(!log.contains("/upload"), "\(log)")
    }
}
