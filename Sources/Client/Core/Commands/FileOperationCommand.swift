import Shared

/// `tooltool change-visibility --digest D --visibility V` and `tooltool delete --digest D`: the server's
/// `PATCH /file/sha512/<digest>` operations (`set_visibility`, `delete_instances`). Both need `manage`.
struct FileOperationCommand {
    /// Which operation.
    enum Operation { case changeVisibility, delete }
    /// The parsed command line.
    let options: Options
    /// Which operation.
    let operation: Operation

    /// Sends the operation to the first server.
    func run() throws(ClientError) -> Bool {
        let name = operation == .delete ? "delete" : "change-visibility"
        guard let text = options.digest else { throw ClientError(.configuration, "\(name) needs --digest D") }
        let digest: Digest
        do { digest = try Digest(parsing: text, algorithm: options.algorithm) } catch {
            throw ClientError(.configuration, "--digest: \(error.description)")
        }
        let op: JSONValue
        switch operation {
        case .changeVisibility:
            guard let visibility = options.visibility else {
                throw ClientError(.configuration, "change-visibility needs --visibility public|internal")
            }
            op = ["op": "set_visibility", "visibility": .string(visibility.rawValue)]
        case .delete:
            op = ["op": "delete_instances"]
        }
        guard let base = options.urls.first else {
            throw ClientError(.configuration, "\(name) needs a server URL: --url URL or TOOLTOOL_URL")
        }
        let token = try AuthenticationFile.token(options.authenticationFile)
        let easy = try CurlEasy(timeout: options.timeout, caBundle: options.caBundle)
        let api = ServerAPI(baseURL: base, token: token, easy: easy)
        let answer = try api.call(.patch, Routes.file(digest), json: [op])
        guard answer.response.status == 200 else {
            throw ServerAPI.failure("\(name) of \(digest.hex.prefix(16))... failed", answer)
        }
        switch operation {
        case .changeVisibility: Log.info("\(digest.hex.prefix(16))... is now \(options.visibility!.rawValue)")
        case .delete: Log.info("\(digest.hex.prefix(16))...: stored instances deleted")
        }
        return true
    }
}
