import HTTPServer

/// Everything `tooltool-server serve` can be told, with the defaults a checkout runs on.
public struct ServerConfiguration: Sendable {
    /// The store root: `public/`, `pvt/`, `tooltool.sqlite` and the temp folder live here. Default: the current folder.
    public var root: String = "."
    /// The base URL that signed upload URLs point at (`--public-url`); nil means the request's `Host`.
    public var publicURL: String?
    /// The largest upload accepted, in bytes (`--max-upload-size`). Default: 64 GiB.
    public var maxUploadSize: Int64 = 64 << 30
    /// Whether anyone may download public blobs (`--no-anonymous-public` turns it off: then `download.public` is needed).
    public var anonymousPublic = true
    /// How long a signed upload URL stays good, in seconds (`--signed-url-lifetime`). Default: one hour.
    public var signedURLLifetime: Int64 = 3600
    /// The largest JSON request body accepted, in bytes.
    public var maxJSONBodySize = 1 << 20
    /// How long a client is told to wait (`X-Retry-After`) while an upload of the same digest is in flight.
    public var uploadRetryAfter = 30
    /// Seconds an upload in flight stays registered in a shared index without renewal (`--upload-lease`): how long
    /// a server killed mid-upload can keep others answering 409. Renewed every third of it. Default: one minute.
    public var uploadLease: Int64 = 60
    /// Seconds between two sweeps of stale temp files while serving (`--sweep-interval`). Default: one minute.
    public var sweepInterval: Double = 60
    /// How GETs of blobs in a remote store are answered (`--s3-downloads`): streamed through the server, or a 302 to a
    /// presigned URL that lives `redirectLifetime` seconds (`--s3-url-lifetime`).
    public var remoteDownloads: RemoteDownloads = .proxy
    public var redirectLifetime = 300
    /// The servers this one mirrors (`--upstream`, repeatable, tried in order), base URLs without a trailing slash;
    /// empty for a primary. See `Mirror`.
    public var upstreams: [String] = []
    /// Seconds allowed to connect to an upstream (`--upstream-connect-timeout`). Default: 3.
    public var upstreamConnectTimeout = 3
    /// Seconds an upstream transfer may move no byte before it fails (`--upstream-stall-timeout`). Default: 30.
    public var upstreamStallTimeout = 30
    /// Seconds a mirror trusts its upstream's word that a token may read pvt blobs, and on a held blob's visibility
    /// (`--upstream-auth-ttl`). Default: 60.
    public var upstreamAuthTTL = 60
    /// Bytes of blobs fetched from upstream a mirror keeps (`--max-cache-size`) before it evicts the least recently
    /// used; nil keeps every one. See `MirrorCache`.
    public var maxCacheSize: Int64?
    /// The HTTP layer's settings: host (default 127.0.0.1), port (8080), threads, limits and timeouts.
    public var http = HTTPServerConfiguration()

    public init() {}
}

/// How GETs of blobs in a remote store are answered.
public enum RemoteDownloads: String, Sendable {
    /// Streamed from the store through the server, with back-pressure.
    case proxy
    /// 302 to a presigned URL, after the same authorization.
    case redirect
}
