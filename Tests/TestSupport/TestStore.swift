import Foundation
import S3
import Shared
import Synchronization

/// Which blob store the end-to-end harnesses' servers and commands use: the root's own folders as usual, or, with
/// `TOOLTOOL_TEST_STORE=s3` in the environment, a prefix of its own in one bucket on the test process's shared
/// `moto_server` (authentication on), so the same suites prove both stores:
/// `TOOLTOOL_TEST_STORE=s3 swift test --filter ServerTests`.
///
/// Tests look at what is stored through `TestStore.contents(root:)` (files on disk, or objects in the bucket read
/// with the project's own S3 client, whose signing the S3 suites check against AWS's examples and botocore), never
/// at paths, so one assertion holds on both stores.
public enum TestStore {
    /// True when the harnesses keep their blobs in S3.
    public static let usesS3 = ProcessInfo.processInfo.environment["TOOLTOOL_TEST_STORE"] == "s3"
    /// The part size the S3 runs use: S3's smallest, so an upload of a few MiB is already multipart.
    public static let partSize = 5 << 20

    private static let prefixes = LockedDictionary()
    private static let counter = Mutex(0)

    /// The bucket and client every S3 run shares (one bucket; each root has its own prefix in it).
    private static let bucket: Result<SharedBucket, MotoServerError> = {
        do {
            let moto = try MotoServer.shared.get()
            let name = try moto.makeBucket()
            let credentials = S3Credentials(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey)
            let client = try S3Client(
                S3Configuration(
                    bucket: name, endpoint: moto.endpoint, pathStyle: true,
                    credentials: credentials))
            return .success(SharedBucket(moto: moto, name: name, client: client))
        } catch let error as MotoServerError {
            return .failure(error)
        } catch {
            return .failure(MotoServerError(message: "setting up the test bucket failed: \(error)"))
        }
    }()

    /// Gives the store at `root` its own prefix in the shared bucket when `usesS3`; nothing otherwise.
    public static func register(root: String) throws {
        guard usesS3 else { return }
        _ = try bucket.get()
        let number = counter.withLock { (value: inout Int) -> Int in
            value += 1
            return value
        }
        prefixes.set(root, "root\(number)")
    }

    /// A body size of at least `size` whose upload shows in `StoredBlobs.uploadsInProgress()` once half of it is
    /// sent: any size on disk, more than two parts in S3 (a body under a part is held in memory until verified).
    public static func sizeSeenInProgress(atLeast size: Int) -> Int {
        usesS3 ? max(size, 2 * partSize + 4321) : size
    }

    /// The `--blob-store` and `--s3-*` flags for a registered root, else nothing.
    public static func arguments(root: String) -> [String] {
        guard let prefix = prefixes.get(root), case .success(let shared) = bucket else { return [] }
        return [
            "--blob-store", "s3://\(shared.name)/\(prefix)", "--s3-endpoint", shared.moto.endpoint, "--s3-path-style",
            "--s3-part-size", String(partSize)
        ]
    }

    /// The credentials a server or command on a registered root needs, else nothing.
    public static func environment(root: String) -> [String: String] {
        guard prefixes.get(root) != nil, case .success(let shared) = bucket else { return [:] }
        return shared.moto.environment
    }

    /// What is stored under `root` (its folders, or its prefix in the bucket).
    public static func contents(root: String) -> StoredBlobs {
        if let prefix = prefixes.get(root), case .success(let shared) = bucket {
            return StoredBlobs(place: .bucket(shared.client, prefix: prefix))
        }
        return StoredBlobs(place: .folder(root))
    }

    private struct SharedBucket: Sendable {
        let moto: MotoServer
        let name: String
        let client: S3Client
    }
}

/// The blobs of one store as a test sees them, on disk or in a bucket.
public struct StoredBlobs: Sendable {
    enum Place: Sendable {
        case folder(String)
        case bucket(S3Client, prefix: String)
    }

    let place: Place

    /// The blobs under `prefix` in `client`'s bucket (for tests that make a store themselves).
    public static func bucket(_ client: S3Client, prefix: String) -> StoredBlobs {
        StoredBlobs(place: .bucket(client, prefix: prefix))
    }

    /// Where the blob would be: a path under the root, or a key in the bucket (for messages).
    public func location(_ digest: Digest, _ visibility: Visibility) -> String {
        switch place {
        case .folder(let root): return "\(root)/\(visibility.folderName)/sha512/\(digest.hex)"
        case .bucket(_, let prefix): return "\(prefix)/\(visibility.folderName)/sha512/\(digest.hex)"
        }
    }

    /// The stored bytes, nil when there is no blob of that digest and visibility.
    public func bytes(_ digest: Digest, _ visibility: Visibility) -> [UInt8]? {
        switch place {
        case .folder: return Fixtures.read(location(digest, visibility))
        case .bucket(let client, _): return try? client.getWholeObject(key: location(digest, visibility))
        }
    }

    /// True when a blob of that digest and visibility is stored.
    public func contains(_ digest: Digest, _ visibility: Visibility) -> Bool {
        switch place {
        case .folder: return FileManager.default.fileExists(atPath: location(digest, visibility))
        case .bucket(let client, _): return (try? client.headObject(key: location(digest, visibility))) != nil
        }
    }

    /// Stores `bytes` by hand, as an admin copying files (or running `aws s3 cp`) would; returns the digest.
    @discardableResult
    public func put(_ bytes: [UInt8], _ visibility: Visibility) throws -> Digest {
        let digest = Fixtures.digest(bytes)
        try put(bytes, as: digest, visibility)
        return digest
    }

    /// Stores `bytes` under `digest`'s name whatever their hash (a corrupt blob, for fsck).
    public func put(_ bytes: [UInt8], as digest: Digest, _ visibility: Visibility) throws {
        switch place {
        case .folder: try Fixtures.write(bytes, to: location(digest, visibility))
        case .bucket(let client, _): try client.putObject(key: location(digest, visibility), body: bytes)
        }
    }

    /// Removes a stored blob by hand.
    public func remove(_ digest: Digest, _ visibility: Visibility) throws {
        switch place {
        case .folder: try FileManager.default.removeItem(atPath: location(digest, visibility))
        case .bucket(let client, _): try client.deleteObject(key: location(digest, visibility))
        }
    }

    /// Uploads in progress or left behind: temp files in `.tmp/` (not the heartbeat's), or multipart uploads under
    /// the prefix. An S3 upload smaller than a part is held in memory and shows here only while it is being sent.
    public func uploadsInProgress() -> [String] {
        switch place {
        case .folder(let root):
            return ((try? FileManager.default.contentsOfDirectory(atPath: root + "/.tmp")) ?? [])
                .filter { !$0.hasPrefix("heartbeat-") }
        case .bucket(let client, let prefix):
            // The prefix is given without its `/`: moto 5.2 checks the signature of a query value holding `/`
            // wrongly (the server's own listings work around it the same way).
            return ((try? client.listMultipartUploads(prefix: prefix)) ?? []).map(\.key).filter {
                $0.hasPrefix(prefix + "/")
            }
        }
    }

    /// Every stored blob's name (`public/sha512/<hex>` or `pvt/sha512/<hex>`), sorted.
    public func names() throws -> [String] {
        switch place {
        case .folder(let root):
            return Visibility.allCases.flatMap { visibility in
                ((try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(visibility.folderName)/sha512")) ?? [])
                    .map { "\(visibility.folderName)/sha512/\($0)" }
            }.sorted()
        case .bucket(let client, let prefix):
            var names: [String] = []
            var token: String?
            repeat {
                let page = try client.listObjects(prefix: prefix, continuationToken: token)
                names += page.objects.filter { $0.key.hasPrefix(prefix + "/") }.map {
                    String($0.key.dropFirst(prefix.count + 1))
                }
                token = page.nextToken
            } while token != nil
            return names.filter { $0.hasPrefix("public/") || $0.hasPrefix("pvt/") }.sorted()
        }
    }
}

/// A string dictionary behind a lock (tests run in parallel).
final class LockedDictionary: Sendable {
    private let values = Mutex<[String: String]>([:])

    func set(_ key: String, _ value: String) { values.withLock { $0[key] = value } }
    func get(_ key: String) -> String? { values.withLock { $0[key] } }
}

extension S3Client {
    /// The whole object, nil when there is none (blocking; for tests).
    func getWholeObject(key: String) throws(S3Error) -> [UInt8]? {
        let collector = ObjectCollector()
        do {
            try wait { (done: @escaping @Sendable (Result<Void, S3Error>) -> Void) in
                collector.done = done
                getObject(key: key, range: nil, sink: collector)
            }
        } catch let error where error.isNotFound {
            return nil
        }
        return collector.bytes.withLock { $0 }
    }
}

/// Gathers a GET's bytes (calls come one at a time from the S3 loop thread).
private final class ObjectCollector: S3DownloadSink, @unchecked Sendable {
    // @unchecked Sendable: `done` is set before the GET starts and read only by its calls, which come one at a time.
    let bytes = Mutex<[UInt8]>([])
    var done: (@Sendable (Result<Void, S3Error>) -> Void)?

    func head(status: Int, contentLength: Int64) {}
    func bytes(_ bytes: UnsafeRawBufferPointer) -> S3SinkDecision {
        self.bytes.withLock { $0 += bytes }
        return .proceed
    }
    func finished(_ result: Result<Void, S3Error>) { done?(result) }
}
