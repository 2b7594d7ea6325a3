import Foundation
import Shared

/// Test data made by the tests themselves: random bytes and their digests.
public enum Fixtures {
    /// `count` random bytes (not cryptographic; fast and good enough for distinct blobs).
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { buffer in
            var index = 0
            while index + 8 <= buffer.count {
                buffer.storeBytes(of: generator.next() as UInt64, toByteOffset: index, as: UInt64.self)
                index += 8
            }
            while index < buffer.count { buffer[index] = UInt8.random(in: 0...255); index += 1 }
        }
        return out
    }

    /// SHA-512 of `bytes`.
    public static func digest(_ bytes: [UInt8]) -> Digest { StreamingHasher.digest(of: bytes) }

    /// Writes `bytes` to `path`, creating parent folders.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    /// Reads a whole file, or nil when it does not exist.
    public static func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }
}
