import Foundation
import TestSupport
import Testing

/// A configuration scan of `serve --tls-cert` with sslyze (PyPI; `scripts/install-deps`), its JSON checked: no
/// protocol below TLS 1.2, only forward-secret AEAD suites, no compression, no insecure or client-initiated
/// renegotiation, not vulnerable to Heartbleed or CCS injection, TLS_FALLBACK_SCSV honoured, resumption by ticket and
/// by session ID.
/// The same checks run on nginx with its default TLS settings must find its CBC suites, so they can fail.
/// sslyze missing is a failure, never a skip.
@Suite struct TLSScanTests {
    /// What sslyze is asked to scan.
    static let scans = [
        "--sslv2", "--sslv3", "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3", "--compression", "--reneg",
        "--resum", "--heartbleed", "--openssl_ccs", "--fallback"
    ]

    /// TLS 1.3's suites: all AEAD with (EC)DHE.
    static let tls13Suites: Set<String> = [
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256"
    ]

    @Test func ourHTTPSServerPassesTheScan() throws {
        let certificates = try TestCertificates()
        let root = TemporaryDirectory(prefix: "scan")
        let server = try ServerProcess(
            root: root.path,
            arguments: [
                "--tls-cert", certificates.certificate,
                "--tls-key", certificates.key
            ])
        defer { server.stop() }
        let result = try Self.scan(port: server.port, into: root.file("sslyze.json"))
        let problems = Self.problems(result)
        #expect(problems.isEmpty, "\(problems)")
        // The scan did look: TLS 1.2 and 1.3 answered, with suites.
        #expect(Self.accepted(result, "tls_1_2_cipher_suites").count > 0)
        #expect(Self.accepted(result, "tls_1_3_cipher_suites").count > 0)
    }

    @Test func theChecksFindNginxsDefaultCBCSuites() throws {
        let certificates = try TestCertificates()
        let work = TemporaryDirectory(prefix: "scan")
        let nginx = try NginxServer(
            certificate: certificates.certificate, key: certificates.key, content: .folder(work.path))
        let problems = Self.problems(try Self.scan(port: nginx.port, into: work.file("sslyze.json")))
        #expect(problems.contains { $0.contains("not AEAD") && $0.contains("CBC") }, "\(problems)")
    }

    /// Runs sslyze on 127.0.0.1:`port`; the scan result of its JSON (`server_scan_results[0].scan_result`).
    static func scan(port: Int, into json: String) throws -> [String: Any] {
        let sslyze = try #require(
            which("sslyze"), "sslyze is not installed (pip install sslyze); run scripts/install-deps")
        let run = try ProcessRunner.run(sslyze, scans + ["--json_out=\(json)", "127.0.0.1:\(port)"], timeout: 300)
        try #require(run.status == 0, "sslyze exited \(run.status): \(run.stdout) \(run.stderr)")
        let document =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
        let server = try #require((document?["server_scan_results"] as? [[String: Any]])?.first)
        try #require(server["scan_status"] as? String == "COMPLETED", "\(server)")
        return try #require(server["scan_result"] as? [String: Any])
    }

    /// Every way the scan result falls short of the policy, one line each; empty when it passes.
    static func problems(_ result: [String: Any]) -> [String] {
        var problems: [String] = []
        func value(_ command: String, _ key: String) -> Any? {
            guard let entry = result[command] as? [String: Any] else {
                problems.append("\(command): missing from the scan")
                return nil
            }
            guard entry["status"] as? String == "COMPLETED", let values = entry["result"] as? [String: Any] else {
                problems.append("\(command): \(entry["status"] ?? "no status") \(entry["error_trace"] ?? "")")
                return nil
            }
            return values[key]
        }
        func expect(_ command: String, _ key: String, _ wanted: Bool) {
            if let got = value(command, key) as? Bool, got == wanted { return }
            problems.append("\(command).\(key): expected \(wanted), got \(value(command, key) ?? "nothing")")
        }
        for old in ["ssl_2_0", "ssl_3_0", "tls_1_0", "tls_1_1"] {
            expect("\(old)_cipher_suites", "is_tls_version_supported", false)
        }
        expect("tls_1_2_cipher_suites", "is_tls_version_supported", true)
        expect("tls_1_3_cipher_suites", "is_tls_version_supported", true)
        for suite in accepted(result, "tls_1_2_cipher_suites") {
            let name = (suite["cipher_suite"] as? [String: Any])?["name"] as? String ?? "?"
            let aead = name.contains("_GCM_") || name.contains("_CHACHA20_POLY1305") || name.contains("_CCM")
            let forwardSecret =
                (name.contains("_ECDHE_") || name.contains("_DHE_")) && !(suite["ephemeral_key"] is NSNull)
            if !aead {
                problems.append("TLS 1.2 suite \(name) is not AEAD (\(name.contains("_CBC_") ? "CBC" : "other"))")
            }
            if !forwardSecret { problems.append("TLS 1.2 suite \(name) is not forward secret") }
        }
        for suite in accepted(result, "tls_1_3_cipher_suites") {
            let name = (suite["cipher_suite"] as? [String: Any])?["name"] as? String ?? "?"
            if !tls13Suites.contains(name) { problems.append("TLS 1.3 suite \(name) is not a known AEAD suite") }
        }
        expect("tls_compression", "supports_compression", false)
        expect("session_renegotiation", "supports_secure_renegotiation", true)
        expect("session_renegotiation", "is_vulnerable_to_client_renegotiation_dos", false)
        if let count = value("session_renegotiation", "client_renegotiations_success_count") as? Int, count != 0 {
            problems.append("session_renegotiation: \(count) client-initiated renegotiations succeeded")
        }
        expect("heartbleed", "is_vulnerable_to_heartbleed", false)
        expect("openssl_ccs_injection", "is_vulnerable_to_ccs_injection", false)
        expect("tls_fallback_scsv", "supports_fallback_scsv", true)
        for (kind, key) in [
            ("tickets", "tls_ticket_resumption_result"), ("session IDs", "session_id_resumption_result")
        ] {
            if let outcome = value("session_resumption", key) as? String, outcome != "FULLY_SUPPORTED" {
                problems.append("session_resumption: \(kind) \(outcome)")
            }
        }
        return problems
    }

    /// The accepted suites of one protocol's scan.
    static func accepted(_ result: [String: Any], _ command: String) -> [[String: Any]] {
        ((result[command] as? [String: Any])?["result"] as? [String: Any])?["accepted_cipher_suites"]
            as? [[String: Any]] ?? []
    }

    /// The path of `name` on `PATH`.
    static func which(_ name: String) -> String? {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}
