import Dispatch
import Shared
import Storage

/// What every route needs, built once by `serve`: the store, the index, auth, metrics and settings.
///
/// All members are Sendable and safe to use from any event-loop thread or from the worker queue.
final class ServerContext: Sendable {
    /// The settings `serve` was started with.
    let configuration: ServerConfiguration
    /// Where blobs live. Only this and `index` know about files and databases.
    let store: any BlobStore
    /// The metadata index used by worker-queue jobs (uploads, API routes).
    let index: any MetadataIndex
    /// The rules that involve both the store and the index.
    let catalog: BlobCatalog
    /// Bearer-token checks for the loop threads (with its own index connection).
    let authenticator: Authenticator
    /// Signs and checks upload URLs.
    let signer: UploadSigner
    /// Request and upload counters.
    let metrics = Metrics()
    /// PUTs in progress, by digest (for `/upload/complete` and races).
    let inFlight: InFlightUploads
    /// Where blocking work goes (fsync, rename, SQLite, PostgreSQL, S3): never on an event loop; at most
    /// `WorkerQueue.defaultWidth` jobs at once.
    let worker = WorkerQueue(label: "tooltool.worker")
    /// The read-through cache of the upstreams (`--upstream`); nil on a primary.
    let mirror: Mirror?

    init(
        configuration: ServerConfiguration, store: any BlobStore, index: any MetadataIndex, authIndex: any MetadataIndex
    ) throws {
        self.configuration = configuration
        self.store = store
        self.index = index
        self.catalog = BlobCatalog(store: store, index: index)
        self.authenticator = Authenticator(index: authIndex)
        self.inFlight = InFlightUploads(index: index, leaseSeconds: configuration.uploadLease)
        self.signer = UploadSigner(secret: try index.secret())
        self.mirror =
            configuration.upstreams.isEmpty
            ? nil
            : try Mirror(
                upstreams: configuration.upstreams, connectTimeout: configuration.upstreamConnectTimeout,
                stallTimeout: configuration.upstreamStallTimeout,
                authTTL: configuration.upstreamAuthTTL, maxCacheSize: configuration.maxCacheSize,
                catalog: catalog, worker: worker, metrics: metrics)
    }
}

extension ServerContext {
    /// Settles the index's record of `digest` against the store (see `BlobCatalog.reconcile`), leaving a digest with
    /// an upload in flight on any server alone. Worker queue only.
    @discardableResult
    func reconcile(_ digest: Digest) throws -> StoredBlob? {
        try catalog.reconcile(digest) { try inFlight.contains(digest) }
    }

    /// `reconcile` of several digests, the index read once for all of them; what the store holds of each it holds.
    func reconcile(_ digests: [Digest]) throws -> [Digest: StoredBlob] {
        try catalog.reconcile(digests) { digest in try inFlight.contains(digest) }
    }
}
