#if canImport(Glibc)
import Glibc
#endif

/// The `tooltool` program: parses the command line, runs one command, returns the exit status.
///
/// Exit status: 0 success, 1 failure, 2 usage error.
public enum Tooltool {
    /// Runs `tooltool` with `arguments` (without the program name) and returns the exit status.
    public static func main(arguments: [String], environment: [String: String]) -> Int32 {
        let options: Options
        do {
            options = try CommandLineParser.parse(arguments, environment: environment)
        } catch {
            Terminal.shared.writeLine("\(HelpText.usage)\n\ntooltool: error: \(error.message)")
            return 2
        }
        if options.help {
            Terminal.shared.writeOutput(HelpText.full)
            return 0
        }
        Log.setLevel(options.verbose ? .debug : options.quiet ? .error : .info)
        do {
            return try run(options) ? 0 : 1
        } catch {
            if error.code == .usage {
                Terminal.shared.writeLine("\(HelpText.usage)\n\ntooltool: error: \(error.message)")
            } else {
                Log.error(error.message)
            }
            return error.exitStatus
        }
    }

    /// The process environment as a dictionary.
    public static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }

    private static func run(_ options: Options) throws(ClientError) -> Bool {
        guard let command = options.command else { throw ClientError(.usage, "You must specify a command") }
        switch command {
        case .list: return try ListCommand(options: options).run()
        case .validate: return try ValidateCommand(options: options).run()
        case .add: return try AddCommand(options: options).run()
        case .fetch: return try FetchCommand(options: options).run()
        case .upload: return try UploadCommand(options: options).run()
        case .changeVisibility: return try FileOperationCommand(options: options, operation: .changeVisibility).run()
        case .delete: return try FileOperationCommand(options: options, operation: .delete).run()
        case .purge: return try PurgeCommand(options: options).run()
        }
    }
}
