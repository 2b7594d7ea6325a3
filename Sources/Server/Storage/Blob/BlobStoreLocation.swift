/// Where blobs are kept: `--blob-store`. A folder (the default: the store root) or an S3-compatible bucket.
public enum BlobStoreLocation: Sendable, Equatable, CustomStringConvertible {
    /// `public/` and `pvt/` under this folder.
    case directory(String)
    /// Objects under `PREFIX/public/sha512/` and `PREFIX/pvt/sha512/` in a bucket (an empty prefix: at its top).
    case s3(bucket: String, prefix: String)

    /// Parses `s3://BUCKET[/PREFIX]` or a folder path (`file://PATH` too). Empty text or another scheme is refused.
    public init(parsing text: String) throws(StorageError) {
        let trimmed = text.trimmingCharacters(in: " \t\n")
        guard !trimmed.isEmpty else { throw .misconfigured("the blob store location is empty") }
        let lower = trimmed.lowercased()
        if lower.hasPrefix("s3://") {
            let rest = trimmed.dropFirst(5)
            let bucket = String(rest.prefix { $0 != "/" })
            guard Self.isValidBucket(bucket) else {
                throw .misconfigured(
                    "bad bucket name \(bucket.debugDescription) in \(trimmed): 3 to 63 lower-case letters, digits, dots or hyphens"
                )
            }
            var prefix = Substring(rest.dropFirst(bucket.count))
            while prefix.hasPrefix("/") { prefix = prefix.dropFirst() }
            while prefix.hasSuffix("/") { prefix = prefix.dropLast() }
            let segments = prefix.split(separator: "/", omittingEmptySubsequences: false)
            if !prefix.isEmpty, segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
                throw .misconfigured(
                    "bad prefix \(String(prefix).debugDescription) in \(trimmed): no empty, . or .. segments")
            }
            self = .s3(bucket: bucket, prefix: String(prefix))
        } else if lower.hasPrefix("file://") {
            self = .directory(String(trimmed.dropFirst(7)))
        } else if lower.contains("://") {
            throw .misconfigured("the blob store must be a folder or s3://BUCKET[/PREFIX], got \(trimmed)")
        } else {
            self = .directory(trimmed)
        }
    }

    /// S3's rules for bucket names (the common subset every S3-compatible service accepts).
    static func isValidBucket(_ name: String) -> Bool {
        guard (3...63).contains(name.utf8.count), let first = name.utf8.first, let last = name.utf8.last else {
            return false
        }
        func letterOrDigit(_ c: UInt8) -> Bool { (0x61...0x7A).contains(c) || (0x30...0x39).contains(c) }
        return letterOrDigit(first) && letterOrDigit(last)
            && name.utf8.allSatisfy { letterOrDigit($0) || $0 == 0x2E || $0 == 0x2D }
    }

    public var description: String {
        switch self {
        case .directory(let path): return path
        case .s3(let bucket, let prefix): return prefix.isEmpty ? "s3://\(bucket)" : "s3://\(bucket)/\(prefix)"
        }
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
