import ArgumentParser
import Shared
import Storage

/// `tooltool-server visibility DIGEST public|internal`: the admin's offline switch.
struct VisibilityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visibility", abstract: "Move a blob between public/ and pvt/ (atomically) and update the index.")

    @OptionGroup var store: StoreOptions
    @Argument(help: "The blob's SHA-512 digest.") var digest: String
    @Argument(help: "public or internal.") var visibility: String

    func validate() throws {
        do { _ = try Digest(parsing: digest) } catch { throw ValidationError(error.description) }
        guard Visibility(name: visibility) != nil else {
            throw ValidationError("visibility must be public or internal, got \(visibility.debugDescription)")
        }
    }

    func run() throws {
        let digest = try Digest(parsing: self.digest)
        let visibility = Visibility(name: self.visibility)!
        let catalog = BlobCatalog(store: try self.store.openBlobStore(), index: try self.store.openIndex())
        let moved: Bool
        do {
            moved = try catalog.setVisibility(digest, to: visibility, mustBeStored: true)
        } catch StorageError.notFound {
            throw CommandFailure("no blob with digest \(digest.hex) in \(catalog.store.location)")
        } catch {
            throw CommandFailure("\(error)")
        }
        print(
            moved ? "\(digest.hex) is now \(visibility.rawValue)" : "\(digest.hex) was already \(visibility.rawValue)")
    }
}
