import Shared

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a blob store operation failed. The app maps each case to its answer (e.g. `diskFull` to 507).
public enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No blob with this digest in either folder.
    case notFound(Digest)
    /// The uploaded bytes do not match the name they were uploaded under.
    case digestMismatch(expected: Digest, actual: Digest, expectedSize: Int64, actualSize: Int64)
    /// More bytes arrived than the upload declared; `got` counts those received so far.
    case tooLarge(expectedSize: Int64, got: Int64)
    /// The blob is already stored with the other visibility; nothing was changed.
    case visibilityConflict(Digest, stored: Visibility, requested: Visibility)
    /// The blob sits in both `public/` and `pvt/` (a stray left by hand); fsck must settle it.
    case inBothFolders(Digest)
    /// The filesystem is out of space or quota (ENOSPC, EDQUOT) during `call`.
    case diskFull(call: String, path: String)
    /// The filesystem has `available` bytes free, fewer than the `needed` an upload declared; checked before its body.
    case insufficientSpace(path: String, needed: Int64, available: Int64)
    /// A system call failed.
    case io(call: String, path: String, errno: Int32)
    /// The upload was already committed, aborted or failed; it takes no more calls.
    case uploadClosed(Digest)
    /// A remote store failed or could not be reached (after its retries), doing `operation`: try again later.
    case unavailable(operation: String, detail: String)
    /// The store's settings are wrong (a bad `--blob-store`, missing credentials).
    case misconfigured(String)

    public var description: String {
        switch self {
        case .notFound(let digest):
            return "no blob \(digest.algorithm.rawValue)/\(digest.hex) in public/ or pvt/"
        case .digestMismatch(let expected, let actual, let expectedSize, let actualSize):
            return "uploaded content does not match its name: expected \(expected.algorithm.rawValue) \(expected.hex) "
                + "(\(expectedSize) bytes), got \(actual.hex) (\(actualSize) bytes)"
        case .tooLarge(let expectedSize, let got):
            return "upload declared \(expectedSize) bytes, got at least \(got)"
        case .visibilityConflict(let digest, let stored, let requested):
            return "blob \(digest.hex) is stored as \(stored.rawValue), cannot store it as \(requested.rawValue)"
        case .inBothFolders(let digest):
            return "blob \(digest.hex) is in both public/ and pvt/; run fsck --repair"
        case .diskFull(let call, let path):
            return "disk full: \(call)(\(path)) failed with no space left"
        case .insufficientSpace(let path, let needed, let available):
            return "no room for an upload of \(needed) bytes in \(path): \(available) bytes free"
        case .io(let call, let path, let code):
            return "\(call)(\(path)) failed: \(String(cString: strerror(code))) (errno \(code))"
        case .uploadClosed(let digest):
            return "upload of \(digest.hex) is already finished"
        case .unavailable(let operation, let detail):
            return "the blob store failed during \(operation): \(detail)"
        case .misconfigured(let problem):
            return problem
        }
    }

    /// Turns a failed call's `errno` into `.diskFull` (ENOSPC, EDQUOT) or `.io`.
    static func fromErrno(_ code: Int32, call: String, path: String) -> StorageError {
        if code == ENOSPC || code == EDQUOT { return .diskFull(call: call, path: path) }
        return .io(call: call, path: path, errno: code)
    }
}
