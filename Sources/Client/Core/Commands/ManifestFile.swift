import Shared

/// Reads and writes the manifest file, turning every problem into a `.manifest` or `.io` error that names the file.
enum ManifestFile {
    /// Loads the manifest at `path` as tooltool.py 1.4.0 reads it; when a member is not of the documented type (or
    /// a record is skipped, as tooltool.py skips it), says so in one warning that names the manifest and each case.
    static func load(_ path: String) throws(ClientError) -> Manifest {
        guard FileSystem.exists(path) else {
            throw ClientError(.manifest, "manifest \(path) does not exist")
        }
        let bytes: [UInt8]
        do { bytes = try FileSystem.readFile(path) } catch {
            throw ClientError(.manifest, "cannot read manifest: \(error.message)")
        }
        let reading: (manifest: Manifest, notes: [ManifestNote])
        do { reading = try Manifest.reading(bytes) } catch {
            throw ClientError(.manifest, "\(path): \(error.description)")
        }
        if !reading.notes.isEmpty { Log.warning(warning(path, reading.notes)) }
        return reading.manifest
    }

    /// Most cases named in the warning; a manifest with more gets "and N more".
    static let notesShown = 10

    /// `PATH: not as documented, read as tooltool.py 1.4.0 reads it: NOTE; NOTE; ...`.
    static func warning(_ path: String, _ notes: [ManifestNote]) -> String {
        var text =
            "\(path): not as documented, read as tooltool.py 1.4.0 reads it: "
            + notes.prefix(notesShown).map(\.description).joined(separator: "; ")
        if notes.count > notesShown { text += "; and \(notes.count - notesShown) more" }
        return text
    }

    /// Writes `manifest` to `path` atomically, byte-identical to tooltool.py's output.
    static func save(_ manifest: Manifest, to path: String) throws(ClientError) {
        try FileSystem.writeFileAtomically(path, Array(manifest.serialized().utf8))
    }
}
