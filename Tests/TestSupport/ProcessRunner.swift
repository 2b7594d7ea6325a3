import Foundation

/// The outcome of a finished process.
public struct ProcessResult: Sendable {
    /// Exit status (or 128+signal when killed by a signal).
    public let status: Int32
    /// Everything written to stdout.
    public let stdout: String
    /// Everything written to stderr.
    public let stderr: String
}

/// Runs executables to completion and captures their output.
public enum ProcessRunner {
    /// Runs `executable` with `arguments` in `directory`, bounded by `timeout` seconds (then SIGKILL).
    public static func run(
        _ executable: String, _ arguments: [String], directory: String? = nil,
        environment: [String: String]? = nil, stdin: [UInt8]? = nil,
        timeout: TimeInterval = 120
    ) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let outFile = try TemporaryFile()
        let errFile = try TemporaryFile()
        process.standardOutput = outFile.handle
        process.standardError = errFile.handle
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { try? input.fileHandleForWriting.write(contentsOf: stdin) }
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let status =
            process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return ProcessResult(status: status, stdout: outFile.contents(), stderr: errFile.contents())
    }

    /// Waits for a started service (nginx, moto_server...) to listen on 127.0.0.1:`port`, polling every 20 ms for
    /// at most `timeout` seconds; false when it exited first or the time ran out (the caller stops it and says why).
    public static func waitUntilListening(_ process: Process, port: Int, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !FreePort.isListening(port) {
            guard process.isRunning, Date() < deadline else { return false }
            usleep(20_000)
        }
        return true
    }
}

/// An unlinked-on-release temp file used to capture output without pipe back-pressure.
final class TemporaryFile {
    let path: String
    let handle: FileHandle

    init() throws {
        var template = Array("\(NSTemporaryDirectory())/tooltool-out-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw POSIXError(.EIO) }
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    func contents() -> String {
        String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }

    deinit { unlink(path) }
}
