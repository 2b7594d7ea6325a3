import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Group commit for the folder syncs of a `FileSystemBlobStore`: the links of uploads finishing at the same moment
/// are made durable by one `fsync` of their folder, not one each.
///
/// An upload's link is durable before its 200 (`publish`). Alone, an upload syncs its folder as it always did; the
/// uploads whose links are made while that sync runs wait for it, then share the next one (`GroupCommit`).
///
/// Thread safety: any thread; `sync` blocks (worker threads only, never an event loop).
final class FolderSyncs: Sendable {
    /// Held while a group's folders are synced (the lock `GroupCommit.complete` needs).
    private let lock = Mutex(())
    private let group = GroupCommit<String, Void, StorageError>()

    /// No sync waiting.
    init() {}

    /// Makes the entries of `folder` durable (after a link in it), sharing the sync with the uploads waiting.
    func sync(_ folder: String) throws(StorageError) {
        let ticket = group.submit(folder)
        try lock.withLock { (_) throws(StorageError) in
            try group.complete(ticket) { (folders) throws(StorageError) -> [Void] in
                var synced: Set<String> = []
                for folder in folders where synced.insert(folder).inserted { try Disk.fsyncDirectory(folder) }
                return Array(repeating: (), count: folders.count)
            }
        }
    }
}
