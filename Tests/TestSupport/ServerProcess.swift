import Foundation

/// A real `tooltool-server serve` process on 127.0.0.1 port 0, stopped when released.
public final class ServerProcess: @unchecked Sendable {
    // @unchecked Sendable: the fields are set once in init; `process` is only signalled and waited on.
    /// The store root the server was started on.
    public let root: String
    /// The port it listens on: the HTTPS one when it serves TLS (`--tls-cert`).
    public let port: Int
    /// `http` or `https`: what `port` speaks.
    public let scheme: String
    /// The plain HTTP port when HTTPS has a port of its own (`--tls-port`); nil otherwise.
    public let plainPort: Int?
    /// `SCHEME://127.0.0.1:PORT`.
    public var url: String { "\(scheme)://127.0.0.1:\(port)" }
    /// The process id.
    public var pid: Int32 { process.processIdentifier }
    /// Where the server's stderr (the access log) goes.
    public let stderrPath: String

    private let process: Process

    /// Starts the server and waits (up to `timeout` seconds) for its `listening on` line.
    ///
    /// `environment` is added to the test's own; `launcher` runs the server through a command that execs it (e.g.
    /// `["/usr/bin/prlimit", "--fsize=N"]`), so `pid` is still the server's. stderr goes to `root/logName` (give two
    /// servers sharing a root two names).
    public init(
        root: String, arguments: [String] = [], executable: String = Binaries.server,
        environment: [String: String] = [:], launcher: [String] = [], timeout: TimeInterval = 20,
        logName: String = "server-stderr.log"
    ) throws {
        self.root = root
        let process = Process()
        let given = ["serve", "--root", root, "--host", "127.0.0.1", "--port", "0"] + arguments
        let serve = ServerCommandLine.arguments(given)
        let environment = ServerCommandLine.environment(given).merging(environment) { $1 }
        if let first = launcher.first {
            process.executableURL = URL(fileURLWithPath: first)
            process.arguments = Array(launcher.dropFirst()) + [executable] + serve
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = serve
        }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let stdout = Pipe()
        process.standardOutput = stdout
        stderrPath = root + "/" + logName
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
        self.process = process

        let reader = stdout.fileHandleForReading
        let deadline = Date().addingTimeInterval(timeout)
        var line = [UInt8]()
        var listening: [(scheme: String, port: Int)] = []
        while Date() < deadline, process.isRunning {
            var pfd = pollfd(fd: reader.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 100) > 0 else { continue }
            var byte: UInt8 = 0
            guard read(reader.fileDescriptor, &byte, 1) == 1 else { break }
            if byte != UInt8(ascii: "\n") { line.append(byte); continue }
            let text = String(decoding: line, as: UTF8.self)
            line.removeAll()
            // `listening on http://H:P`, `listening on https://H:P`, or `listening on https://H:P and http://H:P`.
            if text.hasPrefix("listening on http") {
                listening = text.dropFirst("listening on ".count).split(separator: " ").compactMap { url in
                    guard let scheme = url.split(separator: ":").first, let colon = url.lastIndex(of: ":"),
                        let port = Int(url[url.index(after: colon)...])
                    else { return nil }
                    return (String(scheme), port)
                }
                break
            }
        }
        guard let first = listening.first else {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            let log = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            throw ServerProcessError(message: "server did not print its listening line; stderr: \(log)")
        }
        self.port = first.port
        self.scheme = first.scheme
        self.plainPort = listening.dropFirst().first { $0.scheme == "http" }?.port
    }

    /// Sends SIGTERM and waits for the exit status (SIGKILL after `timeout` seconds).
    @discardableResult
    public func stop(timeout: TimeInterval = 15) -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// True while the server process has not ended.
    public var isRunning: Bool { process.isRunning }

    /// How the process ended (`exit N` or `signal N`), nil while it runs.
    public var ending: String? {
        guard !process.isRunning else { return nil }
        let kind = process.terminationReason == .exit ? "exit" : "signal"
        return "\(kind) \(process.terminationStatus)"
    }

    /// Waits up to `timeout` seconds for the process to end on its own; returns `ending` (nil if it still runs).
    public func waitForExit(timeout: TimeInterval) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        return ending
    }

    /// Kills the server with SIGKILL, as a crash would.
    public func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Peak resident set size in bytes (`VmHWM`), nil once the process is gone.
    public func peakRSS() -> Int? { ProcStatus.field("VmHWM", pid: pid) }

    /// What the server wrote to stderr so far.
    public func stderr() -> String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    deinit { stop() }
}

/// The server process failed to start.
public struct ServerProcessError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Reads `/proc/PID/status` fields given in kB.
public enum ProcStatus {
    /// The value of `name` in bytes, e.g. `VmHWM`.
    public static func field(_ name: String, pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let digits = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first
            return digits.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.map { $0 * 1024 }
        }
        return nil
    }
}
