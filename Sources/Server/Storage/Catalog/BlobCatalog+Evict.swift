import Shared

extension BlobCatalog {
    /// Drops a cached blob (a mirror's eviction): the index record loses its instances first, then the file goes.
    ///
    /// The index first, unlike `deleteInstances`: while the file is there no transfer of the digest can start (the
    /// mirror fetches only what the store lacks), so a fetch that starts once it is gone records its blob after this
    /// and the index ends up saying "stored". A reader that opened the file keeps reading it. Blocking.
    public func evict(_ digest: Digest) throws {
        do { try index.markInstancesGone(digest) } catch .notFound {}
        do { try store.delete(digest) } catch StorageError.notFound {}
    }
}
