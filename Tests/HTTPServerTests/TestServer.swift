import Foundation
import HTTPServer
import Synchronization
import TestSupport
import Testing

/// Every HTTP-layer suite nests in this one so they run one at a time (the streaming test measures RSS).
@Suite(.serialized) struct HTTPServerSuite {}

/// An in-process `HTTPServer` on 127.0.0.1 port 0, its `run()` on its own thread.
final class TestServer: Sendable {
    /// The server under test.
    let server: HTTPServer
    /// Its bound port.
    let port: Int
    /// Every access-log entry it reported.
    let log: Recorder<HTTPAccessLogEntry>
    private let finished = DispatchSemaphore(value: 0)

    /// Starts a server with `TestHandler` (or `handler`) and the defaults changed by `configure`.
    /// With `logLines`, the logger also writes `METHOD PATH STATUS` lines to `accessLogDescriptor`.
    init(
        handler: HTTPHandler? = nil, events: Recorder<String> = Recorder(), logLines: Bool = false,
        configure: (inout HTTPServerConfiguration) -> Void = { _ in }
    ) throws {
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.lingerTimeout = 0.5
        configure(&configuration)
        let log = Recorder<HTTPAccessLogEntry>()
        self.log = log
        server = HTTPServer(
            configuration: configuration, handler: handler ?? TestHandler(events: events),
            accessLog: { entry, lines in
                log.append(entry)
                guard logLines else { return }
                var line = "\(entry.method?.name ?? "-") \(entry.path) \(entry.status)\n"
                line.withUTF8 { lines.append(UnsafeRawBufferPointer($0)) }
            })
        port = try server.start()
        let server = self.server, finished = self.finished
        Thread.detachNewThread {
            server.run()
            finished.signal()
        }
    }

    /// Stops the server; true when `run()` returned within `timeout` seconds.
    @discardableResult
    func stop(timeout: Double = 5) -> Bool {
        server.stop()
        return finished.wait(timeout: .now() + timeout) == .success
    }

    /// Whether `run()` has returned within `timeout` seconds (without asking it to stop).
    func waitForRunToReturn(timeout: Double) -> Bool { finished.wait(timeout: .now() + timeout) == .success }
}

/// A thread-safe list of things that happened.
final class Recorder<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    /// Empty.
    init() {}
    /// Records `item`.
    func append(_ item: Element) { items.withLock { $0.append(item) } }
    /// Everything recorded so far.
    var all: [Element] { items.withLock { $0 } }

    /// Polls until `condition` holds for the items, up to `timeout` seconds.
    func wait(timeout: Double = 3, until condition: ([Element]) -> Bool) -> Bool {
        eventually(timeout: timeout) { condition(all) }
    }
}
