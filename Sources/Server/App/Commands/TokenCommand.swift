import ArgumentParser
import Shared
import Storage

/// `tooltool-server token create|list|revoke`: bearer tokens, stored only as hashes.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, list and revoke bearer tokens.",
        subcommands: [Create.self, List.self, Revoke.self])

    /// `token create --user NAME --permission P...`: prints the new token alone on stdout.
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print it (the only time it is shown).",
            discussion: "Permissions: \(Permission.allCases.map(\.rawValue).joined(separator: ", ")).")

        @OptionGroup var store: StoreOptions
        @Option(help: "Who the token is for (the author of its uploads).") var user: String
        @Option(name: .customLong("permission"), help: "A permission to grant; repeat for more.") var permissions:
            [String]

        func validate() throws {
            guard !user.trimmingWhitespace().isEmpty else { throw ValidationError("--user must not be empty") }
            guard !permissions.isEmpty else { throw ValidationError("give at least one --permission") }
            for name in permissions where Permission(name: name) == nil {
                throw ValidationError(
                    "unknown permission \(name.debugDescription); known: "
                        + Permission.allCases.map(\.rawValue).joined(separator: ", "))
            }
        }

        func run() throws {
            let index = try store.openIndex()
            let granted = Set(permissions.compactMap(Permission.init(name:)))
            let (_, token) = try orFail { () throws(IndexError) in
                try index.createToken(user: user, permissions: granted)
            }
            print(token)
        }
    }

    /// `token list`: id, user, permissions, created, last used, revoked. Never the token.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never the tokens themselves).")
        @OptionGroup var store: StoreOptions

        func run() throws {
            let index = try store.openIndex()
            let tokens = try orFail { () throws(IndexError) in try index.listTokens() }
            print(["ID", "USER", "PERMISSIONS", "CREATED", "LAST USED", "REVOKED"].joined(separator: "\t"))
            for token in tokens {
                print(
                    [
                        String(token.id), token.user, token.permissions.map(\.rawValue).joined(separator: ","),
                        token.created, token.lastUsed ?? "-", token.revoked ?? "-"
                    ].joined(separator: "\t"))
            }
        }
    }

    /// `token revoke ID`.
    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id; it stops working at once.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The token's id, as `token list` shows it.") var id: Int64

        func run() throws {
            let index = try store.openIndex()
            let changed = try orFail { () throws(IndexError) in try index.revokeToken(id: id) }
            print(changed ? "revoked token \(id)" : "token \(id) was already revoked")
        }
    }
}

/// Runs an index call, turning its error into a command failure.
func orFail<T>(_ body: () throws(IndexError) -> T) throws -> T {
    do { return try body() } catch { throw CommandFailure("\(error)") }
}
