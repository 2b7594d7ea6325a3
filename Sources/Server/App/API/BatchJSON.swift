import Shared
import Storage

/// The BATCH object of the API:
/// `{"id", "author", "message", "uploaded", "files": {FILENAME: {"size", "digest", "algorithm", "visibility", "put_url"?}}}`.
///
/// A file's `visibility` is the one the batch declared (the batch is a historical record); `GET /file` shows the
/// current one.
enum BatchJSON {
    /// The batch as JSON; `putURLs` maps a filename to its signed upload URL (only files not stored yet have one).
    static func batch(_ batch: BatchRecord, putURLs: [String: String] = [:]) -> JSONValue {
        let files: [(String, JSONValue)] = batch.files.map { file in
            var members: [(String, JSONValue)] = [
                ("size", .int(file.size)),
                ("digest", .string(file.digest.hex)),
                ("algorithm", .string(file.digest.algorithm.rawValue)),
                ("visibility", .string(file.visibility.rawValue))
            ]
            if let url = putURLs[file.filename] { members.append(("put_url", .string(url))) }
            return (file.filename, .object(members))
        }
        return [
            "id": .int(batch.id),
            "author": .string(batch.author),
            "message": .string(batch.message),
            "uploaded": .string(batch.uploaded),
            "files": .object(files)
        ]
    }

    /// The batch as a tooltool manifest: one record per file (sorted by filename), with its declared visibility.
    static func manifest(_ batch: BatchRecord) -> Manifest {
        Manifest(
            records: batch.files.map { file in
                ManifestRecord(
                    filename: file.filename, size: file.size, digest: file.digest, visibility: file.visibility)
            })
    }
}
