import COpenSSL

#if canImport(Glibc)
import Glibc
#endif

/// AWS Signature Version 4 for S3: signs a request's `Authorization` header, or makes a presigned URL.
///
/// Follows "Signature Version 4 signing process" and "Authenticating Requests: Using Query Parameters" of the S3 API
/// reference; checked against the worked examples there and against botocore (Tests/S3Tests/SigV4Tests.swift).
public struct SigV4: Sendable {
    public let credentials: S3Credentials
    public let region: String
    public let service: String

    public init(credentials: S3Credentials, region: String, service: String = "s3") {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The payload hash of a request whose body is not signed (presigned URLs, streamed parts).
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// The payload hash of an empty body.
    public static let emptyPayload = sha256Hex([])

    /// The headers to add to a request: `Authorization`, `x-amz-date`, `x-amz-content-sha256` and (with a session
    /// token) `x-amz-security-token`. `headers` must hold `host` and every other header to be signed; `path` is
    /// the raw path (it is URI-encoded here, `/` kept); `query` holds raw names and values.
    public func sign(
        method: RequestMethod, path: String, query: [(String, String)], headers: [(String, String)],
        payloadHash: String, time: Int64
    ) -> [(String, String)] {
        let stamp = Self.timestamp(time)
        var all = headers.map { ($0.0.lowercased(), Self.trimmed($0.1)) }
        var added = [("x-amz-date", stamp), ("x-amz-content-sha256", payloadHash)]
        if let token = credentials.sessionToken { added.append(("x-amz-security-token", token)) }
        all += added
        all.sort { $0.0 < $1.0 }
        let signedHeaders = all.map(\.0).joined(separator: ";")
        let canonical = [
            method.rawValue, Self.encode(path, keepSlash: true), Self.canonicalQuery(query),
            all.map { "\($0.0):\($0.1)\n" }.joined(), signedHeaders, payloadHash
        ].joined(separator: "\n")
        let signature = self.signature(canonicalRequest: canonical, stamp: stamp)
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(stamp)), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return [("Authorization", authorization)] + added
    }

    /// A presigned GET URL for `path` on `endpoint` (scheme://host[:port], no trailing slash) valid for `expires`
    /// seconds from `time`. Only `host` is signed, as browsers and curl send nothing else that matters.
    public func presign(
        method: RequestMethod = .get, endpoint: String, host: String, path: String, query: [(String, String)] = [],
        expires: Int, time: Int64
    ) -> String {
        let stamp = Self.timestamp(time)
        var parameters = query
        parameters += [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(stamp))"),
            ("X-Amz-Date", stamp), ("X-Amz-Expires", String(expires))
        ]
        if let token = credentials.sessionToken { parameters.append(("X-Amz-Security-Token", token)) }
        parameters.append(("X-Amz-SignedHeaders", "host"))
        let canonicalQuery = Self.canonicalQuery(parameters)
        let canonical = [
            method.rawValue, Self.encode(path, keepSlash: true), canonicalQuery, "host:\(host)\n", "host",
            Self.unsignedPayload
        ].joined(separator: "\n")
        let signature = self.signature(canonicalRequest: canonical, stamp: stamp)
        return "\(endpoint)\(Self.encode(path, keepSlash: true))?\(canonicalQuery)&X-Amz-Signature=\(signature)"
    }

    /// `date/region/service/aws4_request`.
    func scope(_ stamp: String) -> String { "\(stamp.prefix(8))/\(region)/\(service)/aws4_request" }

    /// The hex signature of a canonical request made at `stamp`.
    func signature(canonicalRequest: String, stamp: String) -> String {
        let stringToSign =
            "AWS4-HMAC-SHA256\n\(stamp)\n\(scope(stamp))\n\(Self.sha256Hex(Array(canonicalRequest.utf8)))"
        var key = Self.hmac(Array("AWS4\(credentials.secretAccessKey)".utf8), Array(stamp.prefix(8).utf8))
        key = Self.hmac(key, Array(region.utf8))
        key = Self.hmac(key, Array(service.utf8))
        key = Self.hmac(key, Array("aws4_request".utf8))
        return Self.hex(Self.hmac(key, Array(stringToSign.utf8)))
    }

    /// Names and values URI-encoded (`/` too), sorted by name then value, joined with `&`.
    static func canonicalQuery(_ query: [(String, String)]) -> String {
        query.map { (encode($0.0, keepSlash: false), encode($0.1, keepSlash: false)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// AWS's URI encoding: every byte but `A-Z a-z 0-9 - . _ ~` (and `/` when kept) as `%XX`, upper-case hex.
    public static func encode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E:
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case 0x2F where keepSlash:
                out.append("/")
            default:
                out.unicodeScalars.append(Unicode.Scalar(0x25))
                out.unicodeScalars.append(Unicode.Scalar(upperHex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(upperHex[Int(byte & 15)]))
            }
        }
        return out
    }

    /// Hex digits for `%XX` escapes, made once (not once per escaped byte).
    private static let upperHex = Array("0123456789ABCDEF".utf8)

    /// A header value with its ends trimmed and inner runs of spaces made one, as SigV4 asks.
    static func trimmed(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// `YYYYMMDD'T'HHMMSS'Z'` in UTC.
    public static func timestamp(_ time: Int64) -> String {
        var seconds = time_t(time)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return
            "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }

    static func hmac(_ key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        _ = HMAC(EVP_sha256(), key, Int32(key.count), data, data.count, &out, &length)
        return out
    }

    /// Lower-case hex SHA-256 of `bytes`.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { sha256Hex($0) }
    }

    /// Lower-case hex SHA-256 of `bytes`.
    public static func sha256Hex(_ bytes: UnsafeRawBufferPointer) -> String {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        _ = EVP_Digest(bytes.baseAddress, bytes.count, &out, &length, EVP_sha256(), nil)
        return hex(out)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
