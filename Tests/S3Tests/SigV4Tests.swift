import Foundation
import S3
import TestSupport
import Testing

/// The signer against AWS's published examples and against botocore signing the same requests.
@Suite struct SigV4Tests {
    static let example = S3Credentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    /// 2013-05-24T00:00:00Z, the examples' time.
    static let exampleTime: Int64 = 1_369_353_600

    static func authorization(_ headers: [(String, String)]) -> String? { headers.first { $0.0 == "Authorization" }?.1 }

    @Test func awsExampleGetObject() {
        // "Example: GET Object" of the S3 API reference (header-based auth).
        let signer = SigV4(credentials: Self.example, region: "us-east-1")
        let headers = signer.sign(
            method: .get, path: "/test.txt", query: [],
            headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9")],
            payloadHash: SigV4.emptyPayload, time: Self.exampleTime)
        #expect(
            Self.authorization(headers)
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func awsExamplePresignedURL() {
        // "Example: Presigned URL" of the S3 API reference (query-string auth, 86400 s).
        let signer = SigV4(credentials: Self.example, region: "us-east-1")
        let url = signer.presign(
            endpoint: "https://examplebucket.s3.amazonaws.com", host: "examplebucket.s3.amazonaws.com",
            path: "/test.txt", expires: 86400, time: Self.exampleTime)
        #expect(
            url == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
                + "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    /// What botocore makes of the same request.
    static func botocore(_ spec: [String: Any]) throws -> [String: String] {
        let script = try #require(Bundle.module.path(forResource: "botocore_sign", ofType: "py"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: spec))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "botocore_sign.py failed (is botocore installed? scripts/install-deps)")
        return try #require(JSONSerialization.jsonObject(with: data) as? [String: String])
    }

    static let cases: [(name: String, key: String, token: String?)] = [
        ("plain", "data/file.tar.gz", nil),
        (
            "session token", "public/sha512/\(String(repeating: "ab", count: 64))",
            "FwoGZXIvYXdzEJr//////////wEaDO+token/with=chars"
        ),
        ("escaping", "dir with space/a+b~c=d&e(1)!*'é/ü.txt", nil)
    ]

    @Test(arguments: 0..<3)
    func headerSignaturesMatchBotocore(_ index: Int) throws {
        let item = Self.cases[index]
        let credentials = S3Credentials(
            accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            sessionToken: item.token)
        let host = "127.0.0.1:9000"
        let time: Int64 = 1_790_000_000
        let payload = SigV4.sha256Hex(Array("hello".utf8))
        let signer = SigV4(credentials: credentials, region: "eu-west-3")
        let query = [("partNumber", "3"), ("uploadId", "a/b+c=")]
        let ours = signer.sign(
            method: .put, path: "/bucket/\(item.key)", query: query,
            headers: [("host", host), ("x-amz-copy-source", "bucket/x y")], payloadHash: payload, time: time)
        var headers: [[String]] = [["x-amz-copy-source", "bucket/x y"], ["X-Amz-Date", SigV4.timestamp(time)]]
        if let token = item.token { headers.append(["X-Amz-Security-Token", token]) }
        let url =
            "http://\(host)\(SigV4.encode("/bucket/\(item.key)", keepSlash: true))?partNumber=3&uploadId=a%2Fb%2Bc%3D"
        let theirs = try Self.botocore([
            "key": credentials.accessKeyID, "secret": credentials.secretAccessKey,
            "token": item.token as Any, "region": "eu-west-3", "method": "PUT", "url": url,
            "headers": headers, "body": "hello", "time": time
        ])
        #expect(
            Self.authorization(ours)?.replacingOccurrences(of: ", ", with: ",")
                == theirs["authorization"]?.replacingOccurrences(of: ", ", with: ","), "\(item.name)")
    }

    @Test(arguments: 0..<3)
    func presignedURLsMatchBotocore(_ index: Int) throws {
        let item = Self.cases[index]
        let credentials = S3Credentials(
            accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret/with+chars",
            sessionToken: item.token)
        let time: Int64 = 1_790_000_123
        let signer = SigV4(credentials: credentials, region: "us-east-1")
        let path = "/bucket/\(item.key)"
        let ours = signer.presign(
            endpoint: "http://localhost:4566", host: "localhost:4566", path: path, expires: 300, time: time)
        let theirs = try Self.botocore([
            "key": credentials.accessKeyID, "secret": credentials.secretAccessKey,
            "token": item.token as Any, "region": "us-east-1", "method": "GET",
            "url": "http://localhost:4566\(SigV4.encode(path, keepSlash: true))", "headers": [[String]](),
            "time": time, "presign_expires": 300
        ])
        // Same parameters and signature, whatever the order botocore writes them in.
        func parameters(_ url: String) -> [String] {
            String(url.split(separator: "?", maxSplits: 1).last ?? "").split(separator: "&").map(String.init).sorted()
        }
        #expect(ours.split(separator: "?").first == theirs["url"]?.split(separator: "?").first, "\(item.name)")
        #expect(parameters(ours) == parameters(try #require(theirs["url"])), "\(item.name)")
    }
}
