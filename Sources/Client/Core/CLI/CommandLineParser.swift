/// Parses `tooltool [OPTIONS] COMMAND [FILES...]` the way Python's optparse does.
///
/// Options may come before or after the command; `--` ends options; long options take `--name value` or
/// `--name=value` and may be abbreviated to a unique prefix; short flags cluster (`-qo`) and a short option's value
/// may be attached (`-mfoo.tt`).
public enum CommandLineParser {
    /// Parses `arguments` (without the program name) over defaults taken from `environment`.
    ///
    /// Throws a `.usage` error for an unknown option, a missing or bad value, or an unknown or missing command.
    /// With `--help` anywhere, returns at once with `help` set and no command check.
    public static func parse(_ arguments: [String], environment: [String: String]) throws(ClientError) -> Options {
        var options = Options(environment: environment)
        var positionals: [String] = []
        var index = 0
        func nextValue(for spec: OptionSpec) throws(ClientError) -> String {
            index += 1
            guard index < arguments.count else {
                throw ClientError(.usage, "\(spec.displayName) option requires 1 argument")
            }
            return arguments[index]
        }
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                positionals.append(contentsOf: arguments[(index + 1)...])
                break
            } else if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                let name = body.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
                let spec = try longOption(String(name))
                let inline: String? =
                    body.contains("=") ? String(body[body.index(after: body.firstIndex(of: "=")!)...]) : nil
                if spec.metavar == nil {
                    if inline != nil { throw ClientError(.usage, "--\(spec.long) option does not take a value") }
                    try spec.apply(&options, "")
                } else {
                    let value: String
                    if let inline { value = inline } else { value = try nextValue(for: spec) }
                    try spec.apply(&options, value)
                }
            } else if argument.hasPrefix("-") && argument.count > 1 {
                var rest = Substring(argument.dropFirst())
                while let letter = rest.first {
                    rest = rest.dropFirst()
                    guard let spec = OptionSpec.all.first(where: { $0.short == letter }) else {
                        throw ClientError(.usage, "no such option: -\(letter)")
                    }
                    if spec.metavar == nil {
                        try spec.apply(&options, "")
                    } else {
                        let value = rest.isEmpty ? try nextValue(for: spec) : String(rest)
                        try spec.apply(&options, value)
                        break
                    }
                }
            } else {
                positionals.append(argument)
            }
            index += 1
        }
        if options.help { return options }
        if options.urls.isEmpty, let list = environment["TOOLTOOL_URL"] {
            options.urls = list.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
        }
        if options.caBundle == nil { options.caBundle = CABundle.fromEnvironment(environment) }
        guard let word = positionals.first else { throw ClientError(.usage, "You must specify a command") }
        guard let command = ClientCommand(rawValue: word) else {
            let known = ClientCommand.allCases.map(\.rawValue).joined(separator: ", ")
            throw ClientError(.usage, "unknown command \(word.debugDescription); expected one of \(known)")
        }
        options.command = command
        options.files = Array(positionals.dropFirst())
        return options
    }

    private static func longOption(_ name: String) throws(ClientError) -> OptionSpec {
        if let exact = OptionSpec.all.first(where: { $0.long == name }) { return exact }
        let matches = OptionSpec.all.filter { $0.long.hasPrefix(name) && $0.help != nil }
        if matches.count == 1, !name.isEmpty { return matches[0] }
        if matches.count > 1, !name.isEmpty {
            let names = matches.map { "--\($0.long)" }.joined(separator: ", ")
            throw ClientError(.usage, "ambiguous option: --\(name) (\(names)?)")
        }
        throw ClientError(.usage, "no such option: --\(name)")
    }
}
