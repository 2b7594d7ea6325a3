import Shared

/// The checks every index makes on a batch before it writes anything, so both backends refuse the same batches
/// with the same messages (the app answers 400).
public enum BatchValidation {
    /// A non-empty author and message, at least one file, bare distinct filenames, sizes >= 0.
    public static func check(author: String, message: String, files: [BatchFile]) throws(IndexError) {
        guard !author.isEmpty else { throw IndexError.invalid("a batch needs an author, got an empty one") }
        guard !message.isEmpty else { throw IndexError.invalid("a batch needs a non-empty message") }
        guard !files.isEmpty else { throw IndexError.invalid("a batch needs at least one file, got none") }
        var names = Set<String>()
        for file in files {
            if let problem = ManifestRecord.filenameProblem(file.filename) {
                throw IndexError.invalid("filename \(problem)")
            }
            guard names.insert(file.filename).inserted else {
                throw IndexError.invalid("filename \(file.filename.debugDescription) appears twice in the batch")
            }
            guard file.size >= 0 else {
                throw IndexError.invalid("\(file.filename): size must be >= 0, got \(file.size)")
            }
        }
    }

    /// The checks of a token's user and permissions.
    public static func checkToken(user: String, permissions: Set<Permission>) throws(IndexError) {
        guard !user.isEmpty, !user.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw IndexError.invalid(
                "user must be a non-empty name without control characters, got \(user.debugDescription)")
        }
        guard !permissions.isEmpty else { throw IndexError.invalid("a token needs at least one permission, got none") }
    }
}
