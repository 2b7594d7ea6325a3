import Foundation
import Shared
import TestSupport
import Testing

/// A throwaway CA and a `ServerHarness` serving HTTPS with its certificate, plus the `curl` and `openssl s_client`
/// commands the TLS suites talk to it with.
final class TLSHarness {
    /// The CA and the server's certificate.
    let certificates: TestCertificates
    /// The store and the running server.
    let harness: ServerHarness

    /// `serve --tls-cert --tls-key` with `arguments` added (e.g. `--tls-port 0`).
    init(tokens: [String: [Permission]] = [:], arguments: [String] = []) throws {
        let certificates = try TestCertificates()
        self.certificates = certificates
        harness = try ServerHarness(
            tokens: tokens,
            arguments: [
                "--tls-cert", certificates.certificate,
                "--tls-key", certificates.key
            ] + arguments, prefix: "tls")
    }

    /// The server process.
    var server: ServerProcess { harness.server }
    /// `https://127.0.0.1:PORT`.
    var url: String { "https://127.0.0.1:\(server.port)" }
    /// A file in the store's temp folder.
    func file(_ name: String) -> String { harness.directory.file(name) }

    /// Runs `curl -sS --cacert CA` with `arguments`.
    func curl(_ arguments: [String], timeout: TimeInterval = 60) throws -> ProcessResult {
        try ProcessRunner.run("/usr/bin/curl", ["-sS", "--cacert", certificates.caFile] + arguments, timeout: timeout)
    }

    /// Runs `openssl s_client` against the server with `arguments`. Without `request` stdin is empty (it connects,
    /// handshakes, ends); with one it sends it and reads until the server closes (`-ign_eof`), so TLS 1.3 tickets,
    /// which come after the handshake, arrive.
    func sClient(_ arguments: [String], request: String? = nil) throws -> ProcessResult {
        try ProcessRunner.run(
            "/usr/bin/openssl",
            [
                "s_client", "-connect", "127.0.0.1:\(server.port)",
                "-CAfile", certificates.caFile
            ] + (request == nil ? [] : ["-ign_eof"]) + arguments,
            stdin: Array((request ?? "").utf8), timeout: 30)
    }
}
