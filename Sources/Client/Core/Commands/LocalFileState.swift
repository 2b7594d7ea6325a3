import Shared

/// What a manifest record's file looks like on disk.
enum LocalFileState: Equatable {
    /// No such file.
    case missing
    /// A file with the right size and digest.
    case valid
    /// A file with another size.
    case wrongSize(Int64)
    /// A file of the right size with another digest.
    case wrongDigest(Digest)
    /// Not a readable regular file.
    case unreadable(String)

    /// Checks the file at `path` against `record`, hashing it only when the size matches (or the record has none).
    static func check(_ record: ManifestRecord, at path: String) -> LocalFileState {
        // `lstat` first: a missing file (what every fetch of a new file finds) costs one system call, not two.
        guard let found = FileSystem.linkStatus(path) else { return .missing }
        var info = found
        if found.st_mode & S_IFMT == S_IFLNK {
            guard let followed = FileSystem.status(path) else { return .unreadable("dangling link") }
            info = followed
        }
        guard info.st_mode & S_IFMT == S_IFREG else { return .unreadable("not a regular file") }
        if let size = record.size, Int64(info.st_size) != size { return .wrongSize(Int64(info.st_size)) }
        do {
            let computed = try FileDigest.compute(path: path, algorithm: record.algorithm)
            if let size = record.size, computed.size != size { return .wrongSize(computed.size) }
            return computed.digest == record.digest ? .valid : .wrongDigest(computed.digest)
        } catch {
            return .unreadable(error.description)
        }
    }

    /// True when the file exists at all.
    var isPresent: Bool { self != .missing }

    /// Why the file is not valid, for a log line (nil when it is).
    func problem(expected record: ManifestRecord) -> String? {
        switch self {
        case .valid: return nil
        case .missing: return "missing"
        case .wrongSize(let size): return "size is \(size) bytes, expected \(record.size.map(String.init) ?? "any")"
        case .wrongDigest(let digest):
            return "digest is \(digest.hex.prefix(16))..., expected \(record.digest.hex.prefix(16))..."
        case .unreadable(let why): return "unreadable: \(why)"
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
