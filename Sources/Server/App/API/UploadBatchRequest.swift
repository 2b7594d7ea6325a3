import Shared
import Storage

/// The body of `POST /upload`, as tooltool.py sends it:
/// `{"message": M, "files": {FILENAME: {"size": N, "digest": D, "algorithm": "sha512", "visibility": V}}}`.
///
/// Parsing checks types and values and throws 400 failures that say what was expected and what was got.
/// Unknown members are ignored (tooltool clients may echo `id`, `uploaded` or `put_url` back); `author` is refused
/// unless null, because the server sets it to the token's user.
struct UploadBatchRequest {
    /// The batch message (non-blank).
    let message: String
    /// The files in the order sent.
    let files: [BatchFile]

    /// The visibilities the batch uploads (each needs `upload.<visibility>`).
    var visibilities: Set<Visibility> { Set(files.map(\.visibility)) }

    /// Parses and validates a batch document.
    init(_ document: JSONValue) throws(APIFailure) {
        guard document.objectValue != nil else {
            throw .badRequest(.badRequest, "the batch must be a JSON object, got \(document.typeName)")
        }
        if let author = document["author"], author != .null {
            throw .badRequest(.badRequest, "author must not be sent: the server sets it to the token's user")
        }
        guard let messageValue = document["message"] else { throw .badRequest(.badRequest, "message is missing") }
        guard let message = messageValue.stringValue else {
            throw .badRequest(.badRequest, "message must be a string, got \(messageValue.typeName)")
        }
        guard message.contains(where: { !$0.isWhitespace }) else {
            throw .badRequest(.badRequest, "message must not be empty")
        }
        guard let filesValue = document["files"] else { throw .badRequest(.badRequest, "files is missing") }
        guard let members = filesValue.objectValue else {
            throw .badRequest(
                .badRequest,
                "files must be an object of FILENAME: {size, digest, algorithm, visibility}, "
                    + "got \(filesValue.typeName)")
        }
        guard !members.isEmpty else { throw .badRequest(.badRequest, "files must name at least one file, got none") }
        var files: [BatchFile] = []
        for (filename, value) in members { files.append(try Self.file(filename, value)) }
        self.message = message
        self.files = files
    }

    private static func file(_ filename: String, _ value: JSONValue) throws(APIFailure) -> BatchFile {
        if let problem = ManifestRecord.filenameProblem(filename) {
            throw .badRequest(.badFilename, "filename \(problem)")
        }
        let label = "files[\(filename.debugDescription)]"
        guard value.objectValue != nil else {
            throw .badRequest(.badRequest, "\(label) must be an object, got \(value.typeName)")
        }
        func string(_ key: String) throws(APIFailure) -> String {
            guard let member = value[key] else { throw .badRequest(.badRequest, "\(label).\(key) is missing") }
            guard let text = member.stringValue else {
                throw .badRequest(.badRequest, "\(label).\(key) must be a string, got \(member.typeName)")
            }
            return text
        }
        guard let sizeValue = value["size"] else { throw .badRequest(.badRequest, "\(label).size is missing") }
        guard case .int(let size) = sizeValue else {
            throw .badRequest(.badRequest, "\(label).size must be an integer, got \(sizeValue.typeName)")
        }
        guard size >= 0 else { throw .badRequest(.badRequest, "\(label).size must not be negative, got \(size)") }
        let algorithmName = try string("algorithm")
        let algorithm: HashAlgorithm
        do { algorithm = try HashAlgorithm(name: algorithmName) } catch {
            throw .badRequest(.badAlgorithm, "\(label): \(error.description)")
        }
        let digestText = try string("digest")
        let digest: Digest
        do { digest = try Digest(parsing: digestText, algorithm: algorithm) } catch {
            throw .badRequest(.badDigest, "\(label): \(error.description)")
        }
        let visibilityName = try string("visibility")
        guard let visibility = Visibility(name: visibilityName) else {
            throw .badRequest(
                .badVisibility, "\(label).visibility must be public or internal, got \(visibilityName.debugDescription)"
            )
        }
        return BatchFile(filename: filename, digest: digest, size: size, visibility: visibility)
    }
}
