import Dispatch
import S3
import Shared
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension S3BlobStore {
    /// Lists the whole prefix and keeps one visibility's keys. (Listing by `PREFIX/public/sha512/` directly would
    /// save a pass, but moto 5.2, the tests' endpoint, mis-checks signatures of query values holding a `/`.)
    public func forEachEntry(_ visibility: Visibility, _ body: (StoreEntry) throws -> Void) throws {
        let folder = "\(keyPrefix)\(visibility.folderName)/\(HashAlgorithm.sha512.rawValue)/"
        var token: String?
        repeat {
            let page: S3ListPage
            do { page = try client.listObjects(prefix: String(keyPrefix.dropLast()), continuationToken: token) } catch {
                throw Self.failure(error, "listing \(location)")
            }
            for object in page.objects where object.key.hasPrefix(folder) {
                let name = String(object.key.dropFirst(folder.count))
                let notABlob = name.contains("/") ? "expected an object named by a digest, found a deeper key" : nil
                try body(StoreEntry(name: name, location: url(object.key), visibility: visibility, notABlob: notABlob))
            }
            token = page.nextToken
        } while token != nil
    }

    public func rehash(_ entry: StoreEntry) throws(StorageError) -> FileDigest {
        let key = key(of: entry)
        let sink = HashingSink()
        client.getObject(key: key, range: nil, sink: sink)
        return try sink.wait(entry.location)
    }

    public func quarantine(_ entry: StoreEntry) throws(StorageError) -> String {
        let key = key(of: entry)
        let target =
            "\(keyPrefix)quarantine/\(entry.visibility.folderName)-sha512-\(entry.name)-\(WallClock.now())-"
            + Hex.encode(Crypto.randomBytes(4))
        do {
            try client.copyObject(from: key, to: target)
            try client.deleteObject(key: key)
        } catch {
            throw Self.failure(error, "quarantining \(entry.location)")
        }
        return url(target)
    }
}

/// Hashes a streamed GET; `wait` gives the digest and size.
private final class HashingSink: S3DownloadSink, @unchecked Sendable {
    // @unchecked Sendable: the hasher and count are touched only by the S3 loop's calls, one at a time, and read
    // after `done` is signalled.
    private let hasher = StreamingHasher(algorithm: .sha512)
    private var size: Int64 = 0
    private var outcome: Result<Void, S3Error>?
    private let done = DispatchSemaphore(value: 0)

    func head(status: Int, contentLength: Int64) {}

    func bytes(_ bytes: UnsafeRawBufferPointer) -> S3SinkDecision {
        hasher.update(bytes)
        size += Int64(bytes.count)
        return .proceed
    }

    func finished(_ result: Result<Void, S3Error>) {
        outcome = result
        done.signal()
    }

    func wait(_ location: String) throws(StorageError) -> FileDigest {
        done.wait()
        switch outcome {
        case .success?: return FileDigest(digest: hasher.finish(), size: size)
        case .failure(let error)?: throw S3BlobStore.failure(error, "reading \(location)")
        case nil: throw StorageError.unavailable(operation: "reading \(location)", detail: "no answer")
        }
    }
}
