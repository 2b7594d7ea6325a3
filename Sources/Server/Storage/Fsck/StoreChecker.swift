import Shared

/// fsck over any blob store: re-hashes every blob against its name, reports (and with `repair` quarantines) bad
/// entries, and brings the index in line with the store, which is the truth.
///
/// Corrupt: content that does not match the name. Stray: a name that is not a digest, an entry that is not a
/// regular blob, or a digest stored under both visibilities (the public copy is the stray, so a dispute never makes
/// a blob more visible). With an index: verified blobs it lacks are recorded (hand-copied ones), records that
/// disagree are corrected, and records of blobs stored nowhere lose their instances. Blocking and long: an admin
/// command, not a request. Re-hashing runs on up to `parallelism` threads at once (remote stores gain the most).
public struct StoreChecker: Sendable {
    public let store: any BlobStore
    public let index: (any MetadataIndex)?
    public let repair: Bool
    public let parallelism: Int

    public init(store: any BlobStore, index: (any MetadataIndex)?, repair: Bool, parallelism: Int = 1) {
        self.store = store
        self.index = index
        self.repair = repair
        self.parallelism = max(1, parallelism)
    }

    public func run() throws -> FsckReport {
        var report = FsckReport()
        for visibility in [Visibility.public, .internal] {
            var batch: [(StoreEntry, Digest)] = []
            try store.forEachEntry(visibility) { entry in
                if let reason = entry.notABlob {
                    report.stray.append(try finding(entry, reason))
                    return
                }
                let digest: Digest
                do { digest = try Digest(parsing: entry.name) } catch {
                    report.stray.append(try finding(entry, "expected a sha512 digest as the name: \(error)"))
                    return
                }
                if visibility == .public, try store.locate(digest) == .internal {
                    report.stray.append(try finding(entry, "also stored in pvt/; the pvt/ copy is kept"))
                    return
                }
                batch.append((entry, digest))
                if batch.count >= parallelism * 4 {
                    try verify(batch, into: &report)
                    batch = []
                }
            }
            try verify(batch, into: &report)
        }
        if let index {
            // The other direction: records that say stored while the store has no such blob (removed by hand).
            var after = ""
            while true {
                let page = try index.storedFiles(after: after, limit: 1000)
                for record in page where try store.locate(record.digest) == nil {
                    try index.markInstancesGone(record.digest)
                    report.reconciled.append(record.digest)
                }
                guard let last = page.last else { break }
                after = last.digest.hex
            }
        }
        return report
    }

    /// Re-hashes `batch` (in parallel), then reports and indexes in order.
    private func verify(_ batch: [(StoreEntry, Digest)], into report: inout FsckReport) throws {
        guard !batch.isEmpty else { return }
        let store = self.store
        let results = ParallelMap.run(batch.count, width: parallelism) { i in
            Result { () throws(StorageError) in try store.rehash(batch[i].0) }
        }
        for (i, (entry, digest)) in batch.enumerated() {
            let computed = try results[i].get()
            guard computed.digest == digest else {
                report.corrupt.append(
                    try finding(entry, "expected content with digest \(digest.hex), got \(computed.digest.hex)"))
                continue
            }
            report.verified += 1
            guard let index else { continue }
            let record = try index.file(digest)
            if record == nil || record?.visibility != entry.visibility || record?.hasInstances != true
                || record?.size != computed.size
            {
                try index.recordStored(digest, size: computed.size, visibility: entry.visibility)
                if record == nil { report.indexed.append(digest) } else { report.reconciled.append(digest) }
            }
        }
    }

    private func finding(_ entry: StoreEntry, _ reason: String) throws -> FsckReport.Finding {
        FsckReport.Finding(
            path: entry.location, reason: reason, quarantinedTo: repair ? try store.quarantine(entry) : nil)
    }
}
