import CCurl
import Testing

@testable import ClientCore

/// In process: which libcurl failures count as TLS failures (never retried), how their messages name the server
/// without a signed URL's query, and the order in which `--cacert` and the CA variables are taken.
/// (`HTTPSClientTests` checks all of it end to end against nginx.)
@Suite struct TLSFailureTests {
    @Test func certificateAndHandshakeFailuresAreNotRetriedButCutsAre() {
        let wrongVersion = "OpenSSL/3.0.19: error:0A00010B:SSL routines::wrong version number"
        let cases: [(CURLcode, String, TransportError.Kind)] = [
            (
                CURLE_PEER_FAILED_VERIFICATION, "SSL certificate problem: unable to get local issuer certificate",
                .certificate
            ),
            (CURLE_SSL_CERTPROBLEM, "", .certificate),
            (CURLE_SSL_ISSUER_ERROR, "", .certificate),
            (CURLE_SSL_CACERT_BADFILE, "error setting certificate file: x.pem", .caFile),
            (CURLE_SSL_CONNECT_ERROR, wrongVersion, .tlsHandshake),
            (
                CURLE_SSL_CONNECT_ERROR, "OpenSSL SSL_connect: Connection reset by peer in connection to 127.0.0.1:1",
                .broken
            ),
            (CURLE_SSL_CONNECT_ERROR, "error:0A000126:SSL routines::unexpected eof while reading", .broken),
            (CURLE_COULDNT_CONNECT, "", .connect),
            (CURLE_OPERATION_TIMEDOUT, "", .timeout)
        ]
        for (code, message, kind) in cases {
            #expect(Curl.kind(of: code, message: message) == kind, "\(code) \(message)")
            #expect(kind.isRetryable == ![.certificate, .caFile, .tlsHandshake].contains(kind))
        }
    }

    @Test func theServerIsNamedByOriginOnly() {
        #expect(
            TransportError.origin(of: "https://u:p@h.example:8443/sha512/ab?visibility=public&signature=s")
                == "https://h.example:8443")
        #expect(TransportError.origin(of: "https://127.0.0.1:1/") == "https://127.0.0.1:1")
        #expect(TransportError.origin(of: "https://h.example?x") == "https://h.example")
        let message = TransportError.tlsMessage(
            .certificate, curlMessage: "SSL certificate problem: self-signed certificate",
            server: "https://h:1", trust: CABundle(path: "/ca.pem", source: "SSL_CERT_FILE"))
        #expect(
            message == "certificate verify failed for https://h:1: SSL certificate problem: self-signed certificate "
                + "(is --cacert right? trusting /ca.pem (from SSL_CERT_FILE))")
    }

    @Test func cacertThenSSLCertFileThenCurlCABundleThenRequestsCABundle() throws {
        let all = ["SSL_CERT_FILE": "/s", "CURL_CA_BUNDLE": "/c", "REQUESTS_CA_BUNDLE": "/r"]
        func bundle(_ arguments: [String], _ environment: [String: String]) throws -> CABundle? {
            try CommandLineParser.parse(arguments + ["fetch"], environment: environment).caBundle
        }
        #expect(try bundle(["--cacert", "/x"], all) == CABundle(path: "/x", source: "--cacert"))
        #expect(try bundle(["--cacert=/x"], [:]) == CABundle(path: "/x", source: "--cacert"))
        #expect(try bundle([], all) == CABundle(path: "/s", source: "SSL_CERT_FILE"))
        #expect(
            try bundle([], all.merging(["SSL_CERT_FILE": ""]) { $1 }) == CABundle(path: "/c", source: "CURL_CA_BUNDLE"))
        #expect(try bundle([], ["REQUESTS_CA_BUNDLE": "/r"]) == CABundle(path: "/r", source: "REQUESTS_CA_BUNDLE"))
        #expect(try bundle([], [:]) == nil)
        #expect(throws: ClientError.self) { try bundle(["--cacert", ""], [:]) }
    }
}
