#if canImport(Glibc)
import Glibc
#endif
import Shared
import Storage

/// Brings the index's record of one digest in line with the blob store, which is the truth about what is stored:
/// a blob dropped in by hand gets a record, a blob removed by hand loses its instances.
///
/// Worker queue only (a stat, an open and up to two small SQLite statements). The index is read before the store,
/// so a PUT that commits meanwhile is never marked gone; a digest with a PUT in flight is left alone.
struct StoreReconciler: Sendable {
    let context: ServerContext

    /// What the store holds for `digest` after reconciling: nil when it is not stored.
    @discardableResult
    func reconcile(_ digest: Digest) throws -> (size: Int64, visibility: Visibility)? {
        let record = try context.index.file(digest)
        guard let blob = try context.store.openForReading(digest) else {
            if let record, record.hasInstances, try !context.inFlight.contains(digest) {
                try context.index.markInstancesGone(digest)
            }
            return nil
        }
        close(blob.fd)
        if record == nil || record?.hasInstances == false || record?.size != blob.size || record?.visibility != blob.visibility {
            try context.index.recordStored(digest, size: blob.size, visibility: blob.visibility)
        }
        return (blob.size, blob.visibility)
    }
}
