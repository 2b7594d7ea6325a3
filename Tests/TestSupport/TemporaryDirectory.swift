import Foundation

/// A fresh folder under the system temp dir, removed when the value is released.
public final class TemporaryDirectory: Sendable {
    /// Absolute path of the folder.
    public let path: String

    /// Creates `/tmp/tooltool-test-<prefix>-XXXXXX`.
    public init(prefix: String = "t") {
        var template = Array("\(NSTemporaryDirectory())/tooltool-test-\(prefix)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed: \(errno)")
        path =
            URL(
                fileURLWithPath: String(
                    decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            ).standardizedFileURL.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// `path/relative`.
    public func file(_ relative: String) -> String { (path as NSString).appendingPathComponent(relative) }
}
