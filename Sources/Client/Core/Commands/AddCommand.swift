import Shared

/// `tooltool add FILE...`: hashes files and writes them to the manifest, as tooltool.py's `add_files` does.
///
/// New records come first, then the old ones not re-added. An identical record is refused (logged, nothing lost);
/// a different file under an existing name is refused as an error. The manifest is written either way, and the
/// command fails when any file was refused.
struct AddCommand {
    /// The parsed command line.
    let options: Options

    /// Adds the files and writes the manifest.
    func run() throws(ClientError) -> Bool {
        guard !options.files.isEmpty else { throw ClientError(.usage, "add: expected at least one FILE") }
        let old = FileSystem.exists(options.manifest) ? try ManifestFile.load(options.manifest) : Manifest()
        var added: [ManifestRecord] = []
        var allAdded = true
        for path in options.files {
            let name = FileSystem.baseName(of: path)
            if let problem = ManifestRecord.filenameProblem(name) {
                throw ClientError(.usage, "add: file name \(problem)")
            }
            let computed: FileDigest
            do { computed = try FileDigest.compute(path: path, algorithm: options.algorithm) } catch {
                throw ClientError(.io, "add: \(error.description)")
            }
            let record = ManifestRecord(
                filename: name, size: computed.size, digest: computed.digest,
                unpack: options.unpack, version: options.version,
                visibility: options.visibility)
            if old.records.contains(record) || added.contains(record) {
                Log.error("manifest already contains an identical record for \(name)")
                allAdded = false
            } else if old.records.contains(where: { $0.filename == name })
                || added.contains(where: { $0.filename == name })
            {
                Log.error("manifest already contains a different file named \(name)")
                allAdded = false
            } else {
                Log.debug("adding \(name) (\(computed.size) bytes)")
                added.append(record)
            }
        }
        let names = Set(added.map(\.filename))
        let manifest = Manifest(records: added + old.records.filter { !names.contains($0.filename) })
        try ManifestFile.save(manifest, to: options.manifest)
        return allAdded
    }
}
