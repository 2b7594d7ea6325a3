/// `tooltool validate`: succeeds only when every record's file is present with the right size and digest.
struct ValidateCommand {
    /// The parsed command line.
    let options: Options

    /// Checks every record (or those named), logging each that is not valid.
    func run() throws(ClientError) -> Bool {
        let manifest = try ManifestFile.load(options.manifest)
        var valid = true
        for record in manifest.records where options.files.isEmpty || options.files.contains(record.filename) {
            let state = LocalFileState.check(record, at: record.filename)
            if let problem = state.problem(expected: record) {
                Log.error("\(record.filename) is not valid: \(problem)")
                valid = false
            } else {
                Log.debug("\(record.filename) is valid")
            }
        }
        return valid
    }
}
