/// `tooltool list`: one line per record, `P`/`-` (present), `V`/`-` (valid) and the filename, tab separated.
struct ListCommand {
    /// The parsed command line.
    let options: Options

    /// Prints the listing; fails only when the manifest cannot be read.
    func run() throws(ClientError) -> Bool {
        let manifest = try ManifestFile.load(options.manifest)
        var out = ""
        for record in manifest.records {
            let state = LocalFileState.check(record, at: record.filename)
            out += "\(state.isPresent ? "P" : "-")\t\(state == .valid ? "V" : "-")\t\(record.filename)\n"
        }
        Terminal.shared.writeOutput(out)
        return true
    }
}
