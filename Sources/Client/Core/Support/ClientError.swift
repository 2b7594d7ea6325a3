/// Why a `tooltool` command failed. One type for the whole client; `code` picks the exit status.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    /// The broad kind of failure.
    public enum Code: Sendable, Equatable {
        /// Bad command line: exit status 2.
        case usage
        /// A manifest that cannot be read or is malformed.
        case manifest
        /// A local file or folder problem (read, write, rename, permissions).
        case io
        /// The network or a server refused or failed.
        case network
        /// A file whose size or digest is not what the manifest says.
        case verification
        /// An archive that could not be unpacked (unknown format, corrupt, a disk error).
        case unpack
        /// An archive holding an entry the unpack policy refuses (escapes the folder, links outside, a device).
        case unpackRefused
        /// Missing or contradictory configuration (no URL, no auth file, ...).
        case configuration
    }

    /// The kind of failure.
    public let code: Code
    /// What was expected and what was got.
    public let message: String

    /// Makes an error of `code` with `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The process exit status this error maps to: 2 for usage errors, 1 for everything else.
    public var exitStatus: Int32 { code == .usage ? 2 : 1 }
}
