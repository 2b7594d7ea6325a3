import Shared

/// Everything the command line (and the environment) said, after parsing and defaults.
///
/// Field names follow tooltool.py's `optparse` destinations where there is one.
public struct Options: Sendable {
    /// The command (`fetch`, `list`, ...); nil only when `--help` came without one.
    public var command: ClientCommand?
    /// Positional arguments after the command (file names for `add` and `fetch`).
    public var files: [String] = []
    /// `-m/--manifest`: the manifest path. Default `manifest.tt`.
    public var manifest = "manifest.tt"
    /// `--url` (repeatable), else `TOOLTOOL_URL` split on whitespace; tried in order.
    public var urls: [String] = []
    /// `-c/--cache-folder`, else `TOOLTOOL_CACHE`; nil means no cache.
    public var cacheFolder: String?
    /// `-s/--size`: gigabytes to keep free for `purge`; 0 (the default) purges everything.
    public var sizeGB: Double = 0
    /// `-o/--overwrite`: accepted for compatibility; an invalid local file is always replaced.
    public var overwrite = false
    /// `-q/--quiet`: errors only.
    public var quiet = false
    /// `-v/--verbose`: debug lines.
    public var verbose = false
    /// `-d/--algorithm`: only `sha512`.
    public var algorithm: HashAlgorithm = .sha512
    /// `--visibility`: for `add` and `change-visibility`.
    public var visibility: Visibility?
    /// `--unpack`: for `add`.
    public var unpack = false
    /// `--version`: the version string recorded by `add` (not the program's version).
    public var version: String?
    /// `--message`: the upload batch message.
    public var message: String?
    /// `--digest`: the file for `change-visibility` and `delete`.
    public var digest: String?
    /// `--authentication-file`: a file whose stripped content is sent as `Authorization: Bearer ...`.
    public var authenticationFile: String?
    /// `--verify-cache`: hash every cache hit instead of trusting its verification stamp (and stamp it again).
    public var verifyCache = false
    /// `-j/--jobs`: parallel transfers. Default 4.
    public var jobs = 4
    /// `--retries`: retries after the first attempt, per server. Default 4.
    public var retries = 4
    /// `--cacert FILE`, else the first of `SSL_CERT_FILE`, `CURL_CA_BUNDLE`, `REQUESTS_CA_BUNDLE` that is set: the
    /// CA certificates trusted for `https` servers. Nil: the system's.
    public var caBundle: CABundle?
    /// `--timeout`: connect and stall timeout in seconds. Default 30.
    public var timeout: Double = 30
    /// Base of the exponential backoff in milliseconds: `--retry-base-ms` (hidden) or `TOOLTOOL_RETRY_BASE_MS`.
    /// Default 1000; tests set it low.
    public var retryBaseMilliseconds = 1000
    /// `-h/--help`.
    public var help = false

    /// Defaults, with the environment's `TOOLTOOL_CACHE` and `TOOLTOOL_RETRY_BASE_MS` applied.
    public init(environment: [String: String] = [:]) {
        if let cache = environment["TOOLTOOL_CACHE"], !cache.isEmpty { cacheFolder = cache }
        if let base = environment["TOOLTOOL_RETRY_BASE_MS"].flatMap({ Int($0) }), base >= 0 {
            retryBaseMilliseconds = base
        }
    }
}
