import Foundation

/// A local S3 endpoint for tests: `moto_server` (PyPI `moto[server]`) on a free 127.0.0.1 port with its request
/// authentication switched on, so a signing bug fails a test.
///
/// moto checks signatures once its first `INITIAL_NO_AUTH_ACTION_COUNT` requests are done: those three create an IAM
/// user, give it `s3:*`, and make its access key; every request after that must be signed with that key.
/// `MotoServer.shared` is one per test process (stopped at exit); each test makes its own bucket. moto missing is a
/// failure, never a skip: `scripts/install-deps` installs it.
public final class MotoServer: @unchecked Sendable {
    // @unchecked Sendable: every field is set once in init; `process` is only terminated in `stop`.
    public let port: Int
    public let accessKeyID: String
    public let secretAccessKey: String
    private let process: Process
    private let counter = NSLock()
    nonisolated(unsafe) private var buckets = 0

    public static let shared: Result<MotoServer, MotoServerError> = {
        do {
            let server = try MotoServer()
            atexit { if case .success(let server) = MotoServer.shared { server.stop() } }
            return .success(server)
        } catch let error as MotoServerError {
            return .failure(error)
        } catch {
            return .failure(MotoServerError(message: "\(error)"))
        }
    }()

    /// `http://127.0.0.1:PORT`.
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// The environment that points the AWS CLI, boto3 and the server at this endpoint with its key.
    public var environment: [String: String] {
        [
            "AWS_ACCESS_KEY_ID": accessKeyID, "AWS_SECRET_ACCESS_KEY": secretAccessKey,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": endpoint
        ]
    }

    /// Starts moto; with `authentication` (the default) every request after the IAM set-up must be signed.
    public init(authentication: Bool = true) throws {
        guard let executable = Self.which("moto_server") else {
            throw MotoServerError(
                message: "moto_server is not installed (pip install 'moto[server]'); run scripts/install-deps")
        }
        port = try FreePort.pick()
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
        var environment = ProcessInfo.processInfo.environment
        if authentication { environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "3" }
        for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"] {
            environment[name] = nil
        }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard ProcessRunner.waitUntilListening(process, port: port, timeout: 30) else {
            process.terminate()
            throw MotoServerError(message: "moto_server did not start listening on \(port) within 30 s")
        }
        let setup = """
            import boto3, json
            iam = boto3.client("iam", endpoint_url="http://127.0.0.1:\(port)", region_name="us-east-1",
                               aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
            iam.create_user(UserName="tooltool")
            iam.put_user_policy(UserName="tooltool", PolicyName="s3", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
            key = iam.create_access_key(UserName="tooltool")["AccessKey"]
            print(key["AccessKeyId"], key["SecretAccessKey"])
            """
        guard authentication else {
            accessKeyID = "AKIDTEST"
            secretAccessKey = "secret"
            return
        }
        let result = try ProcessRunner.run("/usr/bin/env", ["python3", "-c", setup], timeout: 60)
        let words = result.stdout.split(whereSeparator: \.isWhitespace)
        guard result.status == 0, words.count == 2 else {
            process.terminate()
            throw MotoServerError(message: "setting up moto's IAM user failed: \(result.stderr)")
        }
        accessKeyID = String(words[0])
        secretAccessKey = String(words[1])
    }

    /// A new, empty bucket (made with boto3, signed with the test key).
    public func makeBucket() throws -> String {
        let name = counter.withLock { () -> String in
            buckets += 1
            return "tooltool-test-\(getpid())-\(buckets)"
        }
        try python("boto3.client('s3').create_bucket(Bucket='\(name)')")
        return name
    }

    /// Runs Python with boto3 imported and this endpoint's credentials in the environment; its standard output.
    @discardableResult
    public func python(_ code: String) throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment.merge(self.environment) { $1 }
        let result = try ProcessRunner.run(
            "/usr/bin/env", ["python3", "-c", "import boto3\n" + code], environment: environment,
            timeout: 60)
        guard result.status == 0 else { throw MotoServerError(message: "boto3 failed: \(result.stderr)") }
        return result.stdout
    }

    /// The keys under `prefix` in `bucket`, sorted (listed with boto3).
    public func keys(_ bucket: String, prefix: String = "") throws -> [String] {
        let out = try python(
            """
            for page in boto3.client('s3').get_paginator('list_objects_v2').paginate(Bucket='\(bucket)', Prefix='\(prefix)'):
                for item in page.get('Contents', []): print(item['Key'])
            """)
        return out.split(separator: "\n").map(String.init).sorted()
    }

    /// Multipart uploads in progress in `bucket` (keys).
    public func multipartUploads(_ bucket: String) throws -> [String] {
        let out = try python(
            """
            for upload in boto3.client('s3').list_multipart_uploads(Bucket='\(bucket)').get('Uploads', []): print(upload['Key'])
            """)
        return out.split(separator: "\n").map(String.init).sorted()
    }

    /// Kills it (it keeps nothing worth a clean stop). No `waitUntilExit`: at exit, Foundation's run loop no longer
    /// reaps children, and the wait would never end.
    public func stop() {
        kill(process.processIdentifier, SIGKILL)
    }

    private static func which(_ name: String) -> String? {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// moto could not be set up for a test.
public struct MotoServerError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
