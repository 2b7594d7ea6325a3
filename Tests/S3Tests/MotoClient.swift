import S3
import TestSupport

extension MotoServer {
    /// A client for `bucket` with this server's test key, path-style, at `endpoint` (moto itself, or a fault proxy
    /// in front of it).
    func client(bucket: String, endpoint: String? = nil, firstBackoff: Double? = nil) throws -> S3Client {
        var configuration = S3Configuration(
            bucket: bucket, endpoint: endpoint ?? self.endpoint, pathStyle: true,
            credentials: S3Credentials(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey))
        if let firstBackoff { configuration.firstBackoff = firstBackoff }
        return try S3Client(configuration)
    }
}
