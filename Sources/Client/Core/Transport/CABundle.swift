/// The CA certificates the client trusts for `https` servers instead of the system's, and where that choice came
/// from (named in certificate errors, so a user sees which setting to fix).
///
/// libcurl the library reads none of the usual variables itself (the `curl` program does), so the client reads them
/// and sets `CURLOPT_CAINFO`. Precedence: `--cacert FILE`, then `SSL_CERT_FILE` (what Python's `ssl`, and so
/// tooltool.py, reads), then `CURL_CA_BUNDLE`, then `REQUESTS_CA_BUNDLE`; an empty value counts as unset. With none
/// of them, libcurl's built-in CA store (the system's) is used.
public struct CABundle: Sendable, Equatable {
    /// The PEM file of trusted CA certificates.
    public let path: String
    /// Where the path came from: `--cacert` or the variable's name.
    public let source: String

    /// The environment variables read when there is no `--cacert`, first match wins.
    public static let environmentVariables = ["SSL_CERT_FILE", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE"]

    /// Makes a bundle of `path`, chosen by `source`.
    public init(path: String, source: String) {
        self.path = path
        self.source = source
    }

    /// The bundle the environment names, nil when none of `environmentVariables` is set to a non-empty value.
    public static func fromEnvironment(_ environment: [String: String]) -> CABundle? {
        for name in environmentVariables {
            if let path = environment[name], !path.isEmpty { return CABundle(path: path, source: name) }
        }
        return nil
    }

    /// `PATH (from SOURCE)`, for messages.
    var described: String { "\(path) (from \(source))" }
}
