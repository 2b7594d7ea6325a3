import Shared

/// Reads and writes the manifest file, turning every problem into a `.manifest` or `.io` error that names the file.
enum ManifestFile {
    /// Loads and strictly parses the manifest at `path`.
    static func load(_ path: String) throws(ClientError) -> Manifest {
        guard FileSystem.exists(path) else {
            throw ClientError(.manifest, "manifest \(path) does not exist")
        }
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path) } catch {
            throw ClientError(.manifest, "cannot read manifest: \(error.message)")
        }
        do { return try Manifest(parsing: bytes) } catch {
            throw ClientError(.manifest, "\(path): \(error.description)")
        }
    }

    /// Writes `manifest` to `path` atomically, byte-identical to tooltool.py's output.
    static func save(_ manifest: Manifest, to path: String) throws(ClientError) {
        try FileSystem.writeFileAtomically(path, Array(manifest.serialized().utf8))
    }
}
