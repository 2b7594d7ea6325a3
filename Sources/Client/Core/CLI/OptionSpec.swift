import Shared

/// One option of the command line: its spellings, whether it takes a value, and how it changes `Options`.
struct OptionSpec: Sendable {
    /// The one-letter spelling without `-`, if any.
    let short: Character?
    /// The long spelling without `--`.
    let long: String
    /// Name of the value in `--help`; nil for a flag.
    let metavar: String?
    /// One line for `--help`; nil hides the option.
    let help: String?
    /// Applies the option (with its value, "" for a flag).
    let apply: @Sendable (inout Options, String) throws(ClientError) -> Void

    /// How the option is named in error messages, as optparse does (`-m/--manifest`).
    var displayName: String { short.map { "-\($0)/--\(long)" } ?? "--\(long)" }

    /// Every option `tooltool` accepts.
    static let all: [OptionSpec] = [
        flag("h", "help", "show this help message and exit") { $0.help = true },
        flag("q", "quiet", "log errors only") { $0.quiet = true },
        flag("v", "verbose", "log debug detail") { $0.verbose = true },
        value("m", "manifest", "FILE", "manifest file (default manifest.tt)") { o, v in o.manifest = v },
        value("d", "algorithm", "ALGO", "hashing algorithm: sha512 (the only one)") { o, v throws(ClientError) in
            guard let algorithm = HashAlgorithm(rawValue: v) else {
                throw invalidChoice("-d/--algorithm", v, ["sha512"])
            }
            o.algorithm = algorithm
        },
        value(nil, "visibility", "V", "public or internal (add, change-visibility)") { o, v throws(ClientError) in
            guard let visibility = Visibility(name: v) else {
                throw invalidChoice("--visibility", v, ["public", "internal"])
            }
            o.visibility = visibility
        },
        flag("o", "overwrite", "accepted for compatibility: an invalid local file is always replaced") {
            $0.overwrite = true
        },
        value(nil, "url", "URL", "server base URL; repeatable, tried in order (default: $TOOLTOOL_URL)") { o, v in
            o.urls.append(v)
        },
        value("c", "cache-folder", "DIR", "cache folder (default: $TOOLTOOL_CACHE)") { o, v in o.cacheFolder = v },
        flag(nil, "verify-cache", "fetch: hash every cache hit, even one its verification stamp vouches for") {
            $0.verifyCache = true
        },
        value("s", "size", "GB", "purge: gigabytes to keep free (0: purge everything)") { o, v throws(ClientError) in
            guard let size = Double(v), size >= 0, size.isFinite else {
                throw ClientError(
                    .usage, "option -s/--size: expected a number of gigabytes >= 0, got \(v.debugDescription)")
            }
            o.sizeGB = size
        },
        flag(nil, "unpack", "add: mark the files to be unpacked after fetching") { $0.unpack = true },
        value(nil, "version", "STR", "add: the version recorded for the files") { o, v in o.version = v },
        value(nil, "message", "M", "upload: the batch message") { o, v in o.message = v },
        value(nil, "digest", "D", "change-visibility, delete: the file's sha512 digest") { o, v in o.digest = v },
        value(nil, "authentication-file", "FILE", "file holding the token sent as 'Authorization: Bearer'") { o, v in
            o.authenticationFile = v
        },
        value(
            nil, "cacert", "FILE",
            "CA certificates (PEM) to trust for https servers (default: $SSL_CERT_FILE, "
                + "$CURL_CA_BUNDLE, $REQUESTS_CA_BUNDLE, else the system's)"
        ) { o, v throws(ClientError) in
            guard !v.isEmpty else { throw ClientError(.usage, "option --cacert: expected a file, got \"\"") }
            o.caBundle = CABundle(path: v, source: "--cacert")
        },
        value("j", "jobs", "N", "parallel transfers (default 4)") { o, v throws(ClientError) in
            o.jobs = try integer("-j/--jobs", v, minimum: 1)
        },
        value(nil, "retries", "N", "retries after the first attempt, per server (default 4)") {
            o, v throws(ClientError) in
            o.retries = try integer("--retries", v, minimum: 0)
        },
        value(nil, "timeout", "SECONDS", "connect and stall timeout (default 30)") { o, v throws(ClientError) in
            guard let seconds = Double(v), seconds > 0, seconds.isFinite else {
                throw ClientError(
                    .usage, "option --timeout: expected a number of seconds > 0, got \(v.debugDescription)")
            }
            o.timeout = seconds
        },
        value(nil, "retry-base-ms", "MS", nil) { o, v throws(ClientError) in
            o.retryBaseMilliseconds = try integer("--retry-base-ms", v, minimum: 0)
        }
    ]

    private static func flag(
        _ short: Character?, _ long: String, _ help: String,
        _ apply: @escaping @Sendable (inout Options) -> Void
    ) -> OptionSpec {
        OptionSpec(short: short, long: long, metavar: nil, help: help) { options, _ in apply(&options) }
    }

    private static func value(
        _ short: Character?, _ long: String, _ metavar: String, _ help: String?,
        _ apply: @escaping @Sendable (inout Options, String) throws(ClientError) -> Void
    ) -> OptionSpec {
        OptionSpec(short: short, long: long, metavar: metavar, help: help, apply: apply)
    }

    private static func invalidChoice(_ name: String, _ value: String, _ choices: [String]) -> ClientError {
        let list = choices.map { "'\($0)'" }.joined(separator: ", ")
        return ClientError(.usage, "option \(name): invalid choice: '\(value)' (choose from \(list))")
    }

    private static func integer(_ name: String, _ value: String, minimum: Int) throws(ClientError) -> Int {
        guard let number = Int(value), number >= minimum else {
            throw ClientError(
                .usage, "option \(name): expected an integer >= \(minimum), got \(value.debugDescription)")
        }
        return number
    }
}
