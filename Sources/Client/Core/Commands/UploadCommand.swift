/// `tooltool upload` (stub).
struct UploadCommand {
    /// The parsed command line.
    let options: Options
    /// Uploads.
    func run() throws(ClientError) -> Bool { false }
}
