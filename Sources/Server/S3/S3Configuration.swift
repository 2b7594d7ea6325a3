/// Where a bucket is and how to reach it.
public struct S3Configuration: Sendable {
    /// The bucket's name.
    public var bucket: String
    /// `scheme://host[:port]` of an S3-compatible service; nil for AWS's regional endpoint.
    public var endpoint: String?
    /// The region requests are signed for.
    public var region: String
    /// Address the bucket in the path (`http://host/bucket/key`) rather than the host name (`bucket.host`).
    public var pathStyle: Bool
    public var credentials: S3Credentials
    /// Tries per request for answers worth retrying (500, 503 SlowDown, a reset), with exponential backoff.
    public var maxAttempts = 4
    /// The first backoff in seconds (then doubled each time, with jitter).
    public var firstBackoff = 0.2
    /// Seconds to connect before a request fails.
    public var connectTimeout = 5
    /// Seconds without a byte either way before a request fails as stalled.
    public var stallTimeout = 30

    public init(
        bucket: String, endpoint: String? = nil, region: String = "us-east-1", pathStyle: Bool = false,
        credentials: S3Credentials
    ) {
        self.bucket = bucket
        self.endpoint = endpoint.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.region = region
        self.pathStyle = pathStyle
        self.credentials = credentials
    }

    /// `scheme://host[:port]` requests go to, bucket included in the host unless path-style.
    var base: (scheme: String, host: String) {
        let endpoint = self.endpoint ?? "https://s3.\(region).amazonaws.com"
        let scheme = endpoint.hasPrefix("http://") ? "http" : "https"
        var host = String(endpoint.drop { $0 != "/" }.drop { $0 == "/" })
        if let slash = host.firstIndex(of: "/") { host = String(host[..<slash]) }
        return (scheme, pathStyle ? host : "\(bucket).\(host)")
    }

    /// The raw (unencoded) path of `key`.
    func path(_ key: String) -> String { pathStyle ? "/\(bucket)/\(key)" : "/\(key)" }
}
