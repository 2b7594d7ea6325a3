import Shared
import Storage

/// The FILE object of the API: `{"size", "digest", "algorithm", "visibility", "has_instances"}`, and for a single
/// file also `"batches": [{"id", "filename", "author", "message", "uploaded"}, ...]` (newest first).
enum FileJSON {
    /// A file as search results show it.
    static func file(_ file: FileRecord) -> JSONValue {
        [
            "size": .int(file.size),
            "digest": .string(file.digest.hex),
            "algorithm": .string(file.digest.algorithm.rawValue),
            "visibility": .string(file.visibility.rawValue),
            "has_instances": .bool(file.hasInstances)
        ]
    }

    /// A file with the batches that named it.
    static func details(_ file: FileRecord, batches: [FileMention]) -> JSONValue {
        guard case .object(var members) = self.file(file) else { return self.file(file) }
        members.append(
            (
                "batches",
                .array(
                    batches.map { mention in
                        [
                            "id": .int(mention.batchID),
                            "filename": .string(mention.filename),
                            "author": .string(mention.author),
                            "message": .string(mention.message),
                            "uploaded": .string(mention.uploaded)
                        ]
                    })
            ))
        return .object(members)
    }
}
