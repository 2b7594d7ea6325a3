import Foundation

/// A real PostgreSQL server for tests: `initdb` into a temp folder owned by the `postgres` user (tests run as root,
/// and PostgreSQL refuses to run as root), then `pg_ctl start` on a free 127.0.0.1 port, with its socket in that
/// folder. `stop()` (or release) stops it and removes the folder.
///
/// `PostgresCluster.shared` is one cluster per test process (stopped at exit); each test makes its own database
/// with `makeDatabase()`. A test that stops and starts PostgreSQL makes a cluster of its own.
/// PostgreSQL missing is a failure, never a skip: `scripts/install-deps` installs it.
public final class PostgresCluster: @unchecked Sendable {
    // @unchecked Sendable: `port` and the paths are set once in init; `running` and `databases` are only touched
    // inside `lock`.
    /// The port it listens on (127.0.0.1).
    public let port: Int
    /// The temp folder: `data/`, `log`, the socket.
    public let directory: String
    /// The superuser's password when TCP connections must authenticate (`init(password:)`), else nil (trust).
    public let password: String?
    private let binaries: String
    private let lock = NSLock()
    private var running = true
    private var databases = 0

    /// The cluster every test of this process shares.
    public static let shared: Result<PostgresCluster, PostgresClusterError> = {
        do {
            let cluster = try PostgresCluster()
            atexit { if case .success(let cluster) = PostgresCluster.shared { cluster.stop() } }
            return .success(cluster)
        } catch let error as PostgresClusterError {
            return .failure(error)
        } catch {
            return .failure(PostgresClusterError(message: "\(error)"))
        }
    }()

    /// A URI for a fresh, empty database on the shared cluster.
    public static func freshDatabase() throws -> String {
        try shared.get().makeDatabase()
    }

    /// initdb + pg_ctl start; throws with PostgreSQL's own output when either fails.
    ///
    /// With a `password`, connections over TCP (127.0.0.1) authenticate with scram-sha-256 (`pg_hba.conf`'s host
    /// lines) and the `postgres` superuser has that password; the socket stays `trust`. Without one, everything is
    /// `trust`.
    public init(password: String? = nil) throws {
        self.password = password
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.sorted().last,
            FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\(version)/bin/initdb")
        else {
            throw PostgresClusterError(
                message: "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); run scripts/install-deps")
        }
        binaries = "/usr/lib/postgresql/\(version)/bin"
        var template = Array("/tmp/tooltool-pg-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw PostgresClusterError(message: "mkdtemp failed: \(errno)")
        }
        directory = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let user = getpwnam("postgres") else {
            throw PostgresClusterError(message: "there is no postgres user to run PostgreSQL as")
        }
        chown(directory, user.pointee.pw_uid, user.pointee.pw_gid)
        chmod(directory, 0o700)
        var authentication = ["-A", "trust"]
        if let password {
            let passwordFile = "\(directory)/superuser-password"
            _ = FileManager.default.createFile(atPath: passwordFile, contents: Data((password + "\n").utf8))
            chown(passwordFile, user.pointee.pw_uid, user.pointee.pw_gid)
            chmod(passwordFile, 0o600)
            authentication = ["--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=\(passwordFile)"]
        }
        let initdb = try Self.asPostgres(
            ["\(binaries)/initdb", "-D", "\(directory)/data", "-U", "postgres"] + authentication
                + ["-E", "UTF8", "--locale=C", "--no-sync"])
        guard initdb.status == 0 else {
            throw PostgresClusterError(message: "initdb failed: \(initdb.stdout) \(initdb.stderr)")
        }
        var lastError = ""
        for _ in 0..<5 {
            let candidate = try FreePort.pick()
            let start = try Self.asPostgres(daemon: [
                "\(binaries)/pg_ctl", "-D", "\(directory)/data", "-l", "\(directory)/log", "-w",
                "-t", "60", "-o",
                "-p \(candidate) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off",
                "start"
            ])
            if start.status == 0 {
                port = candidate
                return
            }
            lastError =
                start.stdout + start.stderr + ((try? String(contentsOfFile: "\(directory)/log", encoding: .utf8)) ?? "")
        }
        try? FileManager.default.removeItem(atPath: directory)
        throw PostgresClusterError(message: "pg_ctl start failed: \(lastError)")
    }

    deinit { stop() }

    /// `postgresql://postgres@127.0.0.1:PORT/NAME` (no password, even when the cluster has one).
    public func uri(database: String) -> String { "postgresql://postgres@127.0.0.1:\(port)/\(database)" }

    /// Creates a new empty database and returns its URI.
    public func makeDatabase() throws -> String {
        let name = lock.withLock { () -> String in
            databases += 1
            return "tooltool_\(getpid())_\(databases)"
        }
        try psql("CREATE DATABASE \(name)")
        return uri(database: name)
    }

    /// Runs SQL with `psql` as the superuser (on the `postgres` database unless `database` is given); the password,
    /// if any, goes through `PGPASSWORD`.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        let result = try ProcessRunner.run(
            "\(binaries)/psql",
            [
                "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
                "-h", "127.0.0.1", "-p", String(port), "-U", "postgres",
                "-d", database, "-c", sql
            ],
            environment: password.map { ["PGPASSWORD": $0] }, timeout: 60)
        guard result.status == 0 else { throw PostgresClusterError(message: "psql \(sql): \(result.stderr)") }
        return result.stdout
    }

    /// Stops the server (fast shutdown: open connections are cut), keeping its data: `start()` brings it back.
    public func pause() throws {
        let stop = try Self.asPostgres(["\(binaries)/pg_ctl", "-D", "\(directory)/data", "-m", "fast", "-w", "stop"])
        guard stop.status == 0 else { throw PostgresClusterError(message: "pg_ctl stop failed: \(stop.stderr)") }
    }

    /// Starts the server again on the same port after `pause()`.
    public func resume() throws {
        let start = try Self.asPostgres(daemon: [
            "\(binaries)/pg_ctl", "-D", "\(directory)/data", "-l", "\(directory)/log", "-w",
            "-t", "60", "-o",
            "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off", "start"
        ])
        guard start.status == 0 else { throw PostgresClusterError(message: "pg_ctl start failed: \(start.stderr)") }
    }

    /// Stops the server and removes its folder (once).
    public func stop() {
        let wasRunning = lock.withLock { () -> Bool in
            defer { running = false }
            return running
        }
        guard wasRunning else { return }
        _ = try? Self.asPostgres(["\(binaries)/pg_ctl", "-D", "\(directory)/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func asPostgres(_ command: [String]) throws -> ProcessResult {
        try ProcessRunner.run("/usr/sbin/runuser", ["-u", "postgres", "--"] + command, timeout: 120)
    }

    /// Runs a command that leaves a daemon behind (`pg_ctl start`), with every descriptor above 2 closed first:
    /// Foundation's `Process` learns that a child ended when the descriptors it gave it close, and a daemon that
    /// inherited one would keep `pg_ctl` looking alive for ever.
    private static func asPostgres(daemon command: [String]) throws -> ProcessResult {
        let closeAndExec =
            #"for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done; exec "$@""#
        return try ProcessRunner.run(
            "/bin/bash",
            ["-c", closeAndExec, "bash", "/usr/sbin/runuser", "-u", "postgres", "--"]
                + command, timeout: 120)
    }
}

/// PostgreSQL could not be set up for a test.
public struct PostgresClusterError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
