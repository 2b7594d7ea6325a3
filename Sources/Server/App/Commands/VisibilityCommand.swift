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
        let store: FileSystemBlobStore
        do { store = try FileSystemBlobStore(root: self.store.root) } catch { throw CommandFailure("\(error)") }
        let index = try self.store.openIndex()
        let moved: Bool
        do {
            moved = try store.setVisibility(digest, to: visibility)
        } catch .notFound {
            throw CommandFailure("no blob with digest \(digest.hex) in \(self.store.root)")
        } catch {
            throw CommandFailure("\(error)")
        }
        try record(digest, visibility, store: store, index: index)
        print(moved ? "\(digest.hex) is now \(visibility.rawValue)" : "\(digest.hex) was already \(visibility.rawValue)")
    }

    /// Brings the index in line with the folder the blob is now in (recording a hand-copied blob it has not seen).
    private func record(_ digest: Digest, _ visibility: Visibility, store: FileSystemBlobStore, index: any MetadataIndex) throws {
        if (try? index.file(digest)) ?? nil != nil {
            _ = try orFail { () throws(IndexError) in try index.setVisibility(digest, to: visibility) }
            return
        }
        guard let blob = try? store.openForReading(digest) else { throw CommandFailure("\(digest.hex) vanished while it was moved") }
        close(blob.fd)
        _ = try orFail { () throws(IndexError) in try index.recordStored(digest, size: blob.size, visibility: visibility) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
