import Foundation
import Shared

/// A `tooltool-server` command line as the end-to-end suites run it: with the index (`TestIndex`) and, for the
/// commands that open the blob store, the store (`TestStore`) that the environment chose for its `--root`.
public enum ServerCommandLine {
    /// The subcommands that take `--blob-store` and the `--s3-*` flags.
    static let storeCommands: Set<String> = ["serve", "visibility", "fsck"]

    /// `arguments` with `--index URI` and the store flags added when they name a registered `--root` and none of
    /// their own.
    public static func arguments(_ arguments: [String]) -> [String] {
        var result = TestIndex.withIndex(arguments)
        if let root = root(of: arguments), let command = arguments.first, storeCommands.contains(command),
            !arguments.contains("--blob-store")
        {
            result += TestStore.arguments(root: root)
        }
        return result
    }

    /// What the command needs in its environment (S3 credentials), nothing when it uses the disk store.
    public static func environment(_ arguments: [String]) -> [String: String] {
        guard let root = root(of: arguments), !arguments.contains("--blob-store") else { return [:] }
        return TestStore.environment(root: root)
    }

    /// Runs `tooltool-server token create` for `root` and returns the token it printed.
    public static func createToken(root: String, user: String, permissions: [Permission]) throws -> String {
        let arguments =
            ["token", "create", "--root", root, "--user", user]
            + permissions.flatMap { ["--permission", $0.rawValue] }
        let result = try run(arguments, timeout: 30)
        guard result.status == 0 else { throw CommandFailed(description: "token create failed: \(result.stderr)") }
        return result.stdout.trimmingCharacters(in: .newlines)
    }

    /// A command the tests needed exited non-zero.
    public struct CommandFailed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `tooltool-server` with `arguments` completed as above.
    public static func run(_ arguments: [String], timeout: TimeInterval = 60) throws -> ProcessResult {
        try ProcessRunner.run(
            Binaries.server, Self.arguments(arguments), environment: environment(arguments), timeout: timeout)
    }

    private static func root(of arguments: [String]) -> String? {
        guard let at = arguments.firstIndex(of: "--root"), at + 1 < arguments.count else { return nil }
        return arguments[at + 1]
    }
}
