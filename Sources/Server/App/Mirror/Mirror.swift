import Dispatch
import S3
import Shared
import Storage
import Synchronization

/// A verifying read-through cache of other tooltool servers (`serve --upstream URL`, repeatable).
///
/// A GET or HEAD for a public blob this server does not hold joins the one `MirrorFill` of its digest (or starts
/// it): the blob is fetched from the upstreams, in order, into a temp file of the store while its SHA-512 is
/// computed, served to every requester from that file as it grows, and published under its final name only once
/// it matched. Transfers run on the `CurlFetcher`'s own loop thread (libcurl's multi interface on libevent), never
/// on an HTTP event loop; commits (fsync, link, index) run on the worker queue.
///
/// Which upstream a new transfer asks first: the first one, until a transfer from it fails after its head (a
/// mismatch or a cut, which cannot fall back within the request); then the next one, and so on round the list.
/// Failures before any byte (refused, timed out, an error status, 404) fall back to the next upstream at once.
final class Mirror: Sendable {
    /// The upstreams' base URLs, without a trailing slash.
    let upstreams: [String]
    /// Seconds allowed to connect to an upstream.
    let connectTimeout: Int
    /// Seconds a transfer may move no byte before it fails.
    let stallTimeout: Int
    let fetcher: CurlFetcher
    let store: any BlobStore
    let catalog: BlobCatalog
    let worker: WorkerQueue
    let metrics: Metrics
    /// The upstream's word on pvt access and visibility, trusted for `--upstream-auth-ttl`.
    let access: MirrorAccess
    /// The blobs held, by recency, and the `--max-cache-size` eviction.
    let cache: MirrorCache
    /// Index of the upstream a new transfer asks first.
    private let preferred = Atomic<Int>(0)
    /// Transfers in progress, by digest: one per digest, joined by every requester of it.
    private let fills = Mutex<[Digest: MirrorFill]>([:])

    /// Reads what the store holds (a `stat` per blob, for the cache's recency) and evicts what exceeds
    /// `maxCacheSize`, before the server serves.
    init(
        upstreams: [String], connectTimeout: Int, stallTimeout: Int, authTTL: Int, maxCacheSize: Int64?,
        catalog: BlobCatalog, worker: WorkerQueue, metrics: Metrics
    ) throws {
        self.access = MirrorAccess(ttl: .seconds(authTTL))
        self.upstreams = upstreams
        self.connectTimeout = connectTimeout
        self.stallTimeout = stallTimeout
        self.fetcher = try CurlFetcher()
        self.store = catalog.store
        self.catalog = catalog
        self.worker = worker
        self.metrics = metrics
        self.cache = MirrorCache(limit: maxCacheSize, store: catalog.store, metrics: metrics)
        cache.fit(catalog: catalog)  // a store over a lowered limit shrinks before serving
    }

    /// Index of the upstream a new transfer (or check) asks first.
    var firstUpstream: Int { preferred.load(ordering: .relaxed) }

    /// The upstream that redirected requests (uploads, the JSON API) go to: the one transfers ask first.
    var primaryUpstream: String { upstreams[preferred.load(ordering: .relaxed) % upstreams.count] }

    /// Finds `digest` upstream for a requester: `then` hears once (from any thread) when the blob starts arriving,
    /// turned out to be stored here, or could not be had. Cheap: one `stat` when no transfer of it runs yet. A new
    /// transfer forwards the requester's `credential`; a running one is joined whoever started it (the caller
    /// checks that a pvt blob may go to this requester).
    func request(_ digest: Digest, credential: UpstreamCredential?, _ then: @escaping @Sendable (MirrorOutcome) -> Void)
    {
        let (fill, started) = fills.withLock { fills -> (MirrorFill?, Bool) in
            if let fill = fills[digest] { return (fill, false) }
            // A transfer that ended between the requester's miss and now has published the blob.
            if (try? store.locate(digest)) ?? nil != nil { return (nil, false) }
            let fill = MirrorFill(
                digest: digest, mirror: self, first: preferred.load(ordering: .relaxed),
                credential: credential)
            fills[digest] = fill
            return (fill, true)
        }
        guard let fill else { return then(.stored) }
        fill.wait(then)
        if started { fill.start() }
    }

    /// A transfer ended (verified or failed): later requesters find the blob in the store or start again.
    func ended(_ fill: MirrorFill) {
        fills.withLock { fills in
            if fills[fill.digest] === fill { fills[fill.digest] = nil }
        }
    }

    /// A transfer from upstream `index` failed after its head: the next transfer asks the next upstream first.
    func passOver(_ index: Int) {
        _ = preferred.compareExchange(
            expected: index % upstreams.count, desired: (index + 1) % upstreams.count,
            ordering: .relaxed)
    }

    /// Stops the transfers' loop (serve's shutdown).
    func stop() { fetcher.stop() }
}
