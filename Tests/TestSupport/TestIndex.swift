import Foundation

/// Which index the end-to-end harnesses' servers and commands use: `ROOT/tooltool.sqlite` as usual, or, with
/// `TOOLTOOL_TEST_INDEX=postgres` in the environment, a fresh PostgreSQL database per harness store (on the test
/// process's `PostgresCluster.shared`), so the same suites prove both backends:
/// `TOOLTOOL_TEST_INDEX=postgres swift test --filter ServerTests`.
public enum TestIndex {
    /// True when the harnesses put their stores' metadata in PostgreSQL.
    public static let usesPostgres = ProcessInfo.processInfo.environment["TOOLTOOL_TEST_INDEX"] == "postgres"

    private static let locations = LockedDictionary()

    /// Gives the store at `root` its own PostgreSQL database when `usesPostgres`; nothing otherwise.
    public static func register(root: String) throws {
        guard usesPostgres else { return }
        locations.set(root, try PostgresCluster.freshDatabase())
    }

    /// `["--index", URI]` for a registered root, else nothing.
    public static func arguments(root: String) -> [String] {
        locations.get(root).map { ["--index", $0] } ?? []
    }

    /// The PostgreSQL database name of a registered root, nil when it uses SQLite.
    public static func postgresDatabase(root: String) -> String? {
        locations.get(root).flatMap { $0.split(separator: "/").last.map(String.init) }
    }

    /// A `tooltool-server` command line with `--index URI` added when it names a registered `--root` and no index.
    public static func withIndex(_ arguments: [String]) -> [String] {
        guard !arguments.contains("--index"), !arguments.contains("--index-file"),
            let at = arguments.firstIndex(of: "--root"), at + 1 < arguments.count
        else { return arguments }
        return arguments + Self.arguments(root: arguments[at + 1])
    }
}
