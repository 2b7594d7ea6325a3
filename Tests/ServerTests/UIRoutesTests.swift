import Foundation
import Shared
import TestSupport
import Testing

/// The web page's files as the real server serves them: the redirect, security headers, ETags, and that the
/// compiled-in copy matches `ui/` byte for byte (it fails when `scripts/embed-ui` was not run after a change).
@Suite struct UIRoutesTests {
    /// The repository's `ui/` folder.
    static let uiFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ui")

    /// Every file under `ui/`, by path relative to it.
    static func sourceFiles() throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        let base = uiFolder.standardizedFileURL.path
        let walker = try #require(FileManager.default.enumerator(atPath: base))
        while let relative = walker.nextObject() as? String {
            var isFolder: ObjCBool = false
            let path = base + "/" + relative
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue else {
                continue
            }
            files[relative] = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        return files
    }

    static func checkSecurityHeaders(_ response: RawHTTPResponse, _ what: String) {
        let csp = response.header("Content-Security-Policy") ?? ""
        #expect(csp.contains("default-src 'self'"), "\(what)")
        #expect(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "\(what)")
        #expect(csp.contains("frame-ancestors 'none'"), "\(what)")
        #expect(response.header("X-Content-Type-Options") == "nosniff", "\(what)")
        #expect(response.header("Referrer-Policy") == "no-referrer", "\(what)")
        #expect(response.header("X-Frame-Options") == "DENY", "\(what)")
        #expect(response.header("Set-Cookie") == nil, "\(what)")
    }

    @Test func servedFilesMatchTheUIFolder() throws {
        let harness = try APIHarness()
        let files = try Self.sourceFiles()
        #expect(files["index.html"] != nil && files["js/main.js"] != nil && files["app.css"] != nil)
        for (path, bytes) in files {
            let response = try harness.send("GET", "/ui/\(path)")
            #expect(response.status == 200, "\(path): \(response.status)")
            #expect(response.body == bytes, "\(path) differs from ui/\(path): run scripts/embed-ui")
            Self.checkSecurityHeaders(response, path)
        }
        let types = [
            "index.html": "text/html; charset=utf-8", "app.css": "text/css; charset=utf-8",
            "js/main.js": "text/javascript; charset=utf-8", "favicon.svg": "image/svg+xml"
        ]
        for (path, type) in types {
            #expect(try harness.send("GET", "/ui/\(path)").header("Content-Type") == type, "\(path)")
        }
        // The generator agrees (the same check without a server).
        let repository = Self.uiFolder.deletingLastPathComponent().path
        let check = try ProcessRunner.run("/usr/bin/env", ["python3", repository + "/scripts/embed-ui", "--check"])
        #expect(check.status == 0, "\(check.stderr)")
    }

    @Test func indexRedirectAndCaching() throws {
        let harness = try APIHarness()
        for path in ["/", "/ui"] {
            let redirect = try harness.send("GET", path)
            #expect(redirect.status == 302, "\(path)")
            #expect(redirect.header("Location") == "/ui/")
            Self.checkSecurityHeaders(redirect, path)
        }
        let index = try harness.send("GET", "/ui/")
        #expect(index.status == 200)
        #expect(index.body == (try Self.sourceFiles())["index.html"])
        #expect(!index.text.contains("<script>"), "no inline script")
        #expect(index.header("Cache-Control") == "no-cache")
        let etag = try #require(index.header("ETag"))
        #expect(etag.count == 34 && etag.hasPrefix("\"") && etag.hasSuffix("\""))

        let again = try harness.send("GET", "/ui/index.html", headers: [("If-None-Match", etag)])
        #expect(again.status == 304)
        #expect(again.body.isEmpty)
        #expect(again.header("ETag") == etag)
        Self.checkSecurityHeaders(again, "304")
        #expect(try harness.send("GET", "/ui/", headers: [("If-None-Match", "\"other\"")]).status == 200)
        let head = try harness.send("HEAD", "/ui/app.css")
        #expect(head.status == 200 && head.body.isEmpty)
    }

    @Test func unknownFilesAndMethods() throws {
        let harness = try APIHarness()
        for path in ["/ui/nope.js", "/ui/../tooltool.sqlite", "/ui/js/", "/ui/%2e%2e/README.md"] {
            let missing = try harness.send("GET", path)
            #expect(missing.status == 404, "\(path)")
            #expect(harness.errorName(missing) == .notFound, "\(path)")
            Self.checkSecurityHeaders(missing, path)
        }
        let post = try harness.send("POST", "/ui/index.html")
        #expect(post.status == 405)
        #expect(post.header("Allow") == "GET, HEAD")
        // A bad token does not stop the page from loading (it never sends one); the API still refuses it.
        let page = try harness.send("GET", "/ui/", headers: [("Authorization", "Bearer nope")])
        #expect(page.status == 200)
        #expect(try harness.send("GET", "/auth/whoami", headers: [("Authorization", "Bearer nope")]).status == 401)
    }
}
