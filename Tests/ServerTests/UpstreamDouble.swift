import Foundation
import TestSupport

/// A test double of an upstream tooltool server, for the faults a real one never commits: a tiny Python socket
/// server (one thread per connection) that answers every GET for a blob with `Content-Length: SIZE` and then, by
/// `mode`, SIZE wrong bytes (`wrong`), half of them and a close (`cut`), or nothing at all (`stall`). It is a
/// double, not the real server: the mirror's real upstream in the other tests is a real `tooltool-server`.
final class UpstreamDouble {
    enum Mode: String { case wrong, cut, stall }

    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }
    private let process: Process
    private let directory = TemporaryDirectory(prefix: "double")

    private static let script = #"""
        import socket, sys, threading, time, os
        mode, size = sys.argv[1], int(sys.argv[2])
        server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0)); server.listen(64)
        print(server.getsockname()[1], flush=True)
        def serve(conn):
            try:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk: return
                    data += chunk
                if mode == "stall":
                    time.sleep(600); return
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % size)
                body = os.urandom(size)
                conn.sendall(body if mode == "wrong" else body[: size // 2])
                time.sleep(0.2)
            finally:
                conn.close()
        while True:
            conn, _ = server.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
        """#

    /// Starts the double; it answers every blob GET with `size` bytes in `mode`.
    init(_ mode: Mode, size: Int) throws {
        let path = directory.file("upstream_double.py")
        try Self.script.write(toFile: path, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [path, mode.rawValue, String(size)]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var line = [UInt8]()
        var byte: UInt8 = 0
        while read(out.fileHandleForReading.fileDescriptor, &byte, 1) == 1, byte != UInt8(ascii: "\n") {
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else {
            process.terminate()
            throw DoubleError()
        }
        self.port = port
    }

    deinit {
        // SIGKILL: the test process may hand SIGTERM down ignored, and the double has nothing to clean up.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// The double did not start.
struct DoubleError: Error, CustomStringConvertible {
    var description: String { "the upstream double did not print its port" }
}
