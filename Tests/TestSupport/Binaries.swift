import Foundation

/// Where `swift build` put the executables under test: the folder of the running test bundle.
public enum Binaries {
    /// The products folder (`.build/<triple>/debug` or the scratch path's equivalent).
    public static var productsDirectory: URL {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // The runner may live inside `<name>.xctest/` on some platforms.
        while url.pathExtension == "xctest" { url = url.deletingLastPathComponent() }
        return url
    }

    /// Path of the named executable product.
    public static func path(_ name: String) -> String { productsDirectory.appendingPathComponent(name).path }

    /// `tooltool-server`.
    public static var server: String { path("tooltool-server") }
    /// `tooltool`.
    public static var client: String { path("tooltool") }
}
