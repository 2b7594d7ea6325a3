import ArgumentParser
import FoundationEssentials
import Posix
import Storage

#if canImport(Glibc)
import Glibc
#endif

/// `tooltool-server`: serve the store, manage tokens, switch visibility, check the store.
public struct ServerCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "tooltool-server",
        abstract: "A content-addressed artifact store for CI, compatible with Mozilla's tooltool.",
        subcommands: [ServeCommand.self, TokenCommand.self, VisibilityCommand.self, FsckCommand.self])

    public init() {}

    /// Parses the command line and runs the command; errors go to stderr as `error: ...` with a non-zero exit.
    public static func runMain(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Glibc.exit(0)
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }  // --help and friends
            let message = self.message(for: error)
            if error is CommandFailure {
                StandardStreams.err("error: \(message)\n")
            } else {
                StandardStreams.err("error: \(message)\n\(usageString(for: arguments))\n")
            }
            Glibc.exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }

    /// The usage text of the subcommand named in `arguments`, or the root's.
    private static func usageString(for arguments: [String]) -> String {
        let names = arguments.prefix { !$0.hasPrefix("-") }
        let path: [any ParsableCommand.Type] = names.reduce(into: [ServerCommand.self]) { path, name in
            if let next = path.last?.configuration.subcommands.first(where: { $0._commandName == name }) {
                path.append(next)
            }
        }
        return path.last.map { "Usage: " + ($0 == ServerCommand.self ? usageString() : $0.usageString()) }
            ?? ""
    }
}

/// A failure while running a command (not a usage error): printed as `error: <message>`, exit 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `--root` and the index location, shared by every command that opens the store.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The store root: public/, pvt/ and (by default) tooltool.sqlite live here.")
    var root: String = "."
    @Option(
        name: .customLong("index"),
        help:
            "The metadata index: an SQLite path or postgresql://user[:password]@host[:port]/db (default: ROOT/tooltool.sqlite, or $TOOLTOOL_INDEX)."
    )
    var index: String?
    @Option(
        name: .customLong("index-file"),
        help: "Read the index location from this file (keeps a password out of the process list).")
    var indexFile: String?
    @Option(
        name: .customLong("blob-store"),
        help: "Where blobs live: a folder (default: ROOT) or s3://BUCKET[/PREFIX].")
    var blobStore: String?
    @OptionGroup var s3: S3Options

    func validate() throws {
        if index != nil && indexFile != nil { throw ValidationError("give --index or --index-file, not both") }
    }

    /// Where the index is: `--index`, else `--index-file`'s content, else `$TOOLTOOL_INDEX`, else the SQLite file
    /// in the root.
    func indexLocation(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> IndexLocation {
        let text: String
        if let index {
            text = index
        } else if let indexFile {
            guard let data = FileManager.default.contents(atPath: indexFile) else {
                throw CommandFailure("cannot read --index-file \(indexFile)")
            }
            text = String(decoding: data, as: UTF8.self)
        } else if let fromEnvironment = environment["TOOLTOOL_INDEX"], !fromEnvironment.isEmpty {
            text = fromEnvironment
        } else {
            return .defaultSQLite(root: root)
        }
        do { return try IndexLocation(parsing: text) } catch { throw CommandFailure("bad index location: \(error)") }
    }

    /// Where blobs live: `--blob-store`, else the root folder.
    func blobStoreLocation() throws -> BlobStoreLocation {
        guard let blobStore else { return .directory(root) }
        do { return try BlobStoreLocation(parsing: blobStore) } catch {
            throw CommandFailure("bad --blob-store: \(error)")
        }
    }

    /// Opens the blob store, or fails with a message naming it.
    func openBlobStore() throws -> any BlobStore {
        let location = try blobStoreLocation()
        do {
            switch location {
            case .directory(let path):
                return try FileSystemBlobStore(root: path)
            case .s3(let bucket, let prefix):
                return try s3.openStore(bucket: bucket, prefix: prefix)
            }
        } catch {
            throw CommandFailure("cannot open the blob store at \(location): \(error)")
        }
    }

    /// Opens the index, or fails with a message naming it (never its password).
    func openIndex() throws -> any MetadataIndex {
        let location = try indexLocation()
        do { return try location.open() } catch {
            throw CommandFailure("cannot open the index \(location): \(error)")
        }
    }
}
