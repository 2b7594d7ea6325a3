import ArgumentParser
import S3
import Storage

/// The S3 flags of every command that opens the store (used with `--blob-store s3://...`).
struct S3Options: ParsableArguments {
    @Option(
        name: .customLong("s3-endpoint"),
        help: "The S3-compatible endpoint URL (default: AWS's regional endpoint).")
    var endpoint: String?
    @Option(name: .customLong("s3-region"), help: "The bucket's region, used in request signatures.")
    var region: String = "us-east-1"
    @Flag(
        name: .customLong("s3-path-style"),
        help: "Address the bucket in the path (http://host/bucket/key), as most non-AWS services want.")
    var pathStyle = false
    @Option(
        name: .customLong("s3-profile"),
        help:
            "The profile of the AWS shared-credentials file, when the AWS_* variables are not set (default: $AWS_PROFILE or default)."
    )
    var profile: String?
    @Option(
        name: .customLong("s3-part-size"),
        help: "Multipart upload part size in bytes (at least 5 MiB; larger for a body over 10,000 parts).")
    var partSize: Int = S3BlobStore.defaultPartSize
    @Option(
        name: .customLong("s3-upload-concurrency"),
        help: "Parts of one upload sent at once; an upload holds up to this many parts plus one in memory.")
    var uploadConcurrency: Int = S3BlobStore.defaultPartsInFlight
    @Option(
        name: .customLong("s3-downloads"),
        help: "How GETs are served from S3: proxy (streamed through the server) or redirect (302 to a presigned URL).")
    var downloads: RemoteDownloads = .proxy
    @Option(name: .customLong("s3-url-lifetime"), help: "Seconds a redirect's presigned URL stays valid.")
    var urlLifetime: Int = 300
    @Option(
        name: .customLong("s3-abandoned-after"),
        help: "Seconds after which a multipart upload no server finished is aborted by the sweep.")
    var abandonedAfter: Int64 = 86_400
    @Option(
        name: .customLong("s3-stall-timeout"),
        help: "Seconds without a byte either way before an S3 request fails as stalled (then it is retried).")
    var stallTimeout: Int = 30

    func validate() throws {
        if partSize < 5 << 20 {
            throw ValidationError("--s3-part-size must be at least 5 MiB (S3's minimum), got \(partSize)")
        }
        if partSize > 5 << 30 {
            throw ValidationError("--s3-part-size must be at most 5 GiB (S3's maximum), got \(partSize)")
        }
        if !(1...64).contains(uploadConcurrency) {
            throw ValidationError("--s3-upload-concurrency must be between 1 and 64, got \(uploadConcurrency)")
        }
        if !(1...604_800).contains(urlLifetime) {
            throw ValidationError(
                "--s3-url-lifetime must be between 1 and 604800 s (7 days, SigV4's limit), got \(urlLifetime)")
        }
    }

    /// The S3 store these flags describe, for `bucket` and `prefix` (credentials from the environment or the
    /// shared-credentials file).
    func openStore(bucket: String, prefix: String) throws(StorageError) -> S3BlobStore {
        do {
            let credentials = try S3Credentials.resolve(profile: profile)
            var configuration = S3Configuration(
                bucket: bucket, endpoint: endpoint, region: region, pathStyle: pathStyle,
                credentials: credentials)
            configuration.stallTimeout = stallTimeout
            let client = try S3Client(configuration)
            return S3BlobStore(
                client: client, prefix: prefix, partSize: partSize, partsInFlight: uploadConcurrency,
                abandonedAfter: abandonedAfter)
        } catch {
            throw .misconfigured("\(error)")
        }
    }
}

extension RemoteDownloads: ExpressibleByArgument {}
