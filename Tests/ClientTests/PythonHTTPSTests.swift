import Foundation
import TestSupport
import Testing

/// Python's standard library against `serve --tls-cert`, making the calls Mozilla's tooltool.py 1.4.0 makes (CI
/// cannot fetch tooltool.py itself; the README records a run of the real one): `urllib.request.urlopen` without a
/// context for GETs and the JSON API, `http.client.HTTPSConnection(host, port)` for the upload `PUT`, trusting a
/// private CA through `SSL_CERT_FILE` alone, as a CI job would set it.
@Suite struct PythonHTTPSTests {
    /// tooltool.py's calls: POST the batch, PUT the file to its `put_url`, confirm it, GET it back; prints the
    /// digest of what came back.
    static let script = """
        import hashlib, http.client, json, sys, urllib.request
        from urllib.parse import urlparse
        base, token, path = sys.argv[1], sys.argv[2], sys.argv[3]
        data = open(path, "rb").read()
        digest = hashlib.sha512(data).hexdigest()
        def call(url, body=None):
            request = urllib.request.Request(url, data=body)
            request.add_unredirected_header("Authorization", "Bearer " + token)
            if body is not None:
                request.add_header("Content-Type", "application/json")
            return urllib.request.urlopen(request)
        batch = {"message": "python over TLS", "files": {"a.bin": {"size": len(data), "digest": digest,
                 "algorithm": "sha512", "visibility": "public"}}}
        result = json.load(call(base + "/upload", json.dumps(batch).encode()))["result"]
        url = urlparse(result["files"]["a.bin"]["put_url"])
        host, port = url.netloc.split(":") if ":" in url.netloc else (url.netloc, 443)
        connection = http.client.HTTPSConnection(host, int(port))
        connection.request("PUT", "%s?%s" % (url.path, url.query), data,
                           {"Content-Type": "application/octet-stream", "Content-Length": str(len(data))})
        answer = connection.getresponse()
        assert answer.status == 200, (answer.status, answer.read())
        call(base + "/upload/complete/sha512/" + digest)
        print(url.scheme, hashlib.sha512(urllib.request.urlopen(base + "/sha512/" + digest).read()).hexdigest())
        """

    @Test func urllibAndHTTPSConnectionTrustAPrivateCAThroughSSLCertFile() throws {
        let ca = try TestCertificates(), other = try TestCertificates()
        let root = TemporaryDirectory(prefix: "server")
        let work = TemporaryDirectory(prefix: "python")
        let server = try ServerProcess(root: root.path, arguments: ["--tls-cert", ca.certificate, "--tls-key", ca.key])
        defer { server.stop() }
        let token = try ProcessRunner.run(
            Binaries.server,
            [
                "token", "create", "--user", "py", "--root", root.path,
                "--permission", "upload.public"
            ])
        try #require(token.status == 0, "\(token.stderr)")
        let blob = Blob("a.bin", size: 2_000_000)
        try Fixtures.write(blob.bytes, to: work.file(blob.name))
        let arguments = [
            "python3", "-c", Self.script, server.url, token.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
            work.file(blob.name)
        ]
        let noCA = ["CURL_CA_BUNDLE": "", "REQUESTS_CA_BUNDLE": "", "SSL_CERT_DIR": work.path]

        let trusted = try ProcessRunner.run(
            "/usr/bin/env", arguments,
            environment: noCA.merging(["SSL_CERT_FILE": ca.caFile]) { $1 })
        #expect(trusted.status == 0, "\(trusted.stderr)")
        #expect(trusted.stdout == "https \(blob.digest.hex)\n", "\(trusted.stdout)")
        #expect(Client.file(root.path, "public/sha512/\(blob.digest.hex)") == blob.bytes)

        // Another CA in SSL_CERT_FILE: the first call fails the way tooltool.py reports it.
        let untrusted = try ProcessRunner.run(
            "/usr/bin/env", arguments,
            environment: noCA.merging(["SSL_CERT_FILE": other.caFile]) { $1 })
        #expect(untrusted.status != 0)
        #expect(untrusted.stderr.contains("CERTIFICATE_VERIFY_FAILED"), "\(untrusted.stderr)")
    }
}
