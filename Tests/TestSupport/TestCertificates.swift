import Foundation

/// A throwaway certificate authority and the server certificates it signs, made with the `openssl` command in a
/// temp folder (removed with the value). For HTTPS tests: `serve --tls-cert certificate --tls-key key`, and a
/// client trusting `caFile` (`curl --cacert`, `SSL_CERT_FILE`).
///
/// The CA and every key are P-256 ECDSA. `init` issues one server certificate for `localhost` and `127.0.0.1`.
public final class TestCertificates: Sendable {
    /// The folder holding every file.
    public let directory: TemporaryDirectory
    /// The CA certificate (PEM): what a client trusts.
    public let caFile: String
    /// The server certificate `init` issued (PEM).
    public let certificate: String
    /// Its private key (PEM).
    public let key: String

    /// Makes a CA and one server certificate for `hosts` (DNS names or IPv4 literals), good for two days.
    public init(hosts: [String] = ["localhost", "127.0.0.1"]) throws {
        directory = TemporaryDirectory(prefix: "tls")
        caFile = directory.file("ca.pem")
        let caKey = directory.file("ca.key")
        try Self.openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", caKey, "-out", caFile, "-days", "2", "-subj", "/CN=tooltool test CA"
        ])
        let issued = try Self.issue(
            in: directory, caFile: caFile, caKey: caKey, name: "server", commonName: "localhost",
            hosts: hosts, days: 2)
        certificate = issued.certificate
        key = issued.key
    }

    /// Issues another certificate signed by this CA: `NAME.pem` and `NAME.key` in `directory`. `days: 0` makes one
    /// that expires the moment it is made (notAfter = notBefore = now), for the expired-certificate checks.
    public func issue(
        name: String, commonName: String, hosts: [String] = ["localhost", "127.0.0.1"],
        days: Int = 2
    ) throws -> (certificate: String, key: String) {
        try Self.issue(
            in: directory, caFile: caFile, caKey: directory.file("ca.key"), name: name, commonName: commonName,
            hosts: hosts, days: days)
    }

    /// A fresh P-256 key that matches no certificate (`NAME.key`).
    public func strayKey(name: String) throws -> String {
        let path = directory.file("\(name).key")
        try Self.openssl(["genpkey", "-algorithm", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path])
        return path
    }

    private static func issue(
        in directory: TemporaryDirectory, caFile: String, caKey: String, name: String,
        commonName: String, hosts: [String], days: Int
    ) throws -> (certificate: String, key: String) {
        let key = directory.file("\(name).key"), request = directory.file("\(name).csr")
        let certificate = directory.file("\(name).pem"), extensions = directory.file("\(name).ext")
        let names = hosts.map { $0.allSatisfy { $0.isNumber || $0 == "." } ? "IP:\($0)" : "DNS:\($0)" }
        try Array("subjectAltName=\(names.joined(separator: ","))\n".utf8).write(to: extensions)
        try openssl([
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
            "-out", request, "-subj", "/CN=\(commonName)"
        ])
        try openssl([
            "x509", "-req", "-in", request, "-CA", caFile, "-CAkey", caKey, "-CAcreateserial",
            "-out", certificate, "-days", String(days), "-extfile", extensions
        ])
        return (certificate, key)
    }

    /// Runs `openssl` with `arguments`; throws with its stderr when it fails.
    public static func openssl(_ arguments: [String]) throws {
        let result = try ProcessRunner.run("/usr/bin/openssl", arguments, timeout: 60)
        guard result.status == 0 else {
            throw ServerProcessError(
                message: "openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(result.stderr)")
        }
    }
}

private extension Array where Element == UInt8 {
    func write(to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(self)) else {
            throw ServerProcessError(message: "cannot write \(path)")
        }
    }
}
