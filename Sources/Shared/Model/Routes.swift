/// URL paths both sides build and parse.
public enum Routes {
    /// `/sha512/<digest>`: GET, HEAD and PUT of a blob.
    public static func blob(_ digest: Digest) -> String { "/\(digest.algorithm.rawValue)/\(digest.hex)" }
    /// `/upload`: POST a batch, GET to search batches.
    public static let upload = "/upload"
    /// `/upload/complete/sha512/<digest>`: confirm an upload.
    public static func uploadComplete(_ digest: Digest) -> String {
        "/upload/complete/\(digest.algorithm.rawValue)/\(digest.hex)"
    }
    /// `/file/sha512/<digest>`: GET a file's record, PATCH it.
    public static func file(_ digest: Digest) -> String { "/file/\(digest.algorithm.rawValue)/\(digest.hex)" }
}
