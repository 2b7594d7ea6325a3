import Foundation

/// nginx (Debian's `nginx-light`, which has the ssl module) serving HTTPS on a free 127.0.0.1 port with a given
/// certificate: a folder as it is, or a reverse proxy in front of a plain-HTTP server, the deployment tooltool needed
/// before native TLS. Stopped when released. nginx missing is a failure, never a skip: `scripts/install-deps`
/// installs it.
public final class NginxServer: @unchecked Sendable {
    // @unchecked Sendable: every field is set once in init; `process` is only signalled and waited on.
    /// What nginx serves.
    public enum Content: Sendable {
        /// The files under this folder, by path (`/sha512/<digest>` is `FOLDER/sha512/<digest>`).
        case folder(String)
        /// Every request passed on, body streamed, to this `http://HOST:PORT` with the client's `Host`.
        case proxy(String)
    }

    /// The port it listens on.
    public let port: Int
    /// `https://127.0.0.1:PORT`.
    public var url: String { "https://127.0.0.1:\(port)" }
    /// nginx's access log: one line per request (`METHOD PATH STATUS`).
    public let accessLog: String
    private let workDirectory: TemporaryDirectory
    private let process: Process

    /// Starts nginx with `certificate` and `key` serving `content` on `port` (nil: a free one), and waits until it
    /// accepts connections. (A port picked beforehand lets a proxied server be told its public URL.)
    public init(certificate: String, key: String, content: Content, port: Int? = nil) throws {
        guard let executable = ["/usr/sbin/nginx", "/usr/bin/nginx"].first(where: FileManager.default.isExecutableFile)
        else {
            throw NginxServerError(message: "nginx is not installed (Debian nginx-light); run scripts/install-deps")
        }
        workDirectory = TemporaryDirectory(prefix: "nginx")
        chmod(workDirectory.path, 0o755)
        let work = workDirectory.path
        accessLog = work + "/access.log"
        self.port = try port ?? FreePort.pick()
        let port = self.port
        let location: String
        switch content {
        case .folder(let root): location = "root \(root);"
        case .proxy(let upstream):
            location =
                "proxy_pass \(upstream); proxy_http_version 1.1; proxy_request_buffering off; "
                + "proxy_buffering off; proxy_set_header Host $http_host; proxy_set_header Connection \"\";"
        }
        // As root, nginx's workers would run as nobody, who cannot read the tests' 0700 temp folders.
        let config = """
            daemon off;
            worker_processes 1;
            \(geteuid() == 0 ? "user root;" : "")
            error_log \(work)/error.log info;
            pid \(work)/nginx.pid;
            events { worker_connections 256; }
            http {
                log_format requests '$request_method $uri $status';
                access_log \(accessLog) requests;
                client_body_temp_path \(work)/body;
                proxy_temp_path \(work)/proxy;
                fastcgi_temp_path \(work)/fastcgi;
                uwsgi_temp_path \(work)/uwsgi;
                scgi_temp_path \(work)/scgi;
                client_max_body_size 0;
                types { }
                default_type application/octet-stream;
                server {
                    listen 127.0.0.1:\(port) ssl;
                    ssl_certificate \(certificate);
                    ssl_certificate_key \(key);
                    location / { \(location) }
                }
            }
            """
        try Data(config.utf8).write(to: URL(fileURLWithPath: work + "/nginx.conf"))
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-c", work + "/nginx.conf", "-p", work, "-e", work + "/error.log"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard ProcessRunner.waitUntilListening(process, port: port, timeout: 20) else {
            stop()
            let log = (try? String(contentsOfFile: work + "/error.log", encoding: .utf8)) ?? ""
            throw NginxServerError(message: "nginx did not start listening on \(port) within 20 s: \(log)")
        }
    }

    deinit { stop() }

    /// The access log's lines so far (nginx writes each when its request ends).
    public func requests() -> [String] {
        ((try? String(contentsOfFile: accessLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// How many TLS handshakes nginx saw fail so far (its error log's `SSL_do_handshake() failed` lines, at level
    /// info): a client that does not trust the certificate aborts the handshake with an alert.
    public func failedHandshakes() -> Int {
        let log = (try? String(contentsOfFile: workDirectory.path + "/error.log", encoding: .utf8)) ?? ""
        return log.split(separator: "\n").filter { $0.contains("SSL_do_handshake() failed") }.count
    }

    /// Stops nginx (SIGQUIT: finish the requests in flight; SIGKILL after 10 s) and waits for it.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGQUIT)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// nginx could not be started for a test.
public struct NginxServerError: Error, CustomStringConvertible {
    /// What failed.
    public let message: String
    public var description: String { message }
}
