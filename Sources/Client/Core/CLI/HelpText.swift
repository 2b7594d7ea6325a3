/// The `--help` text and the usage line printed with usage errors.
public enum HelpText {
    /// The one-line synopsis.
    public static let usage = "Usage: tooltool [options] COMMAND [FILES...]"

    /// The whole help text: synopsis, commands, options, environment and exit status.
    public static var full: String {
        var lines = [
            usage, "",
            "Commands:",
            "  list                 show each record: P(resent) V(alid) FILENAME",
            "  validate             exit 0 only when every file is present and valid",
            "  add FILE...          add files to the manifest (--visibility, --unpack, --version)",
            "  fetch [FILE...]      fetch all files of the manifest, or only those named",
            "  upload               upload the manifest's files as one batch (--message)",
            "  change-visibility    set a stored file's visibility (--digest, --visibility)",
            "  delete               delete a stored file's blob (--digest)",
            "  purge                empty the cache (-c), or free -s GB on its filesystem",
            "",
            "Options:"
        ]
        for spec in OptionSpec.all {
            guard let help = spec.help else { continue }
            var names = spec.short.map { "-\($0), " } ?? ""
            names += "--\(spec.long)"
            if let metavar = spec.metavar { names += "=\(metavar)" }
            let padded = names.count < 29 ? names + String(repeating: " ", count: 29 - names.count) : names + "  "
            lines.append("  " + padded + help)
        }
        lines += [
            "",
            "Environment:",
            "  TOOLTOOL_URL            whitespace-separated server URLs when no --url is given",
            "  TOOLTOOL_CACHE          cache folder when no -c is given",
            "  TOOLTOOL_RETRY_BASE_MS  base of the retry backoff in milliseconds (default 1000)",
            "  SSL_CERT_FILE, CURL_CA_BUNDLE, REQUESTS_CA_BUNDLE  CA file for https when no --cacert is given",
            "                          (the first one set wins)",
            "  http_proxy, https_proxy, no_proxy  as libcurl reads them",
            "",
            "Exit status: 0 success, 1 failure, 2 usage error."
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}
