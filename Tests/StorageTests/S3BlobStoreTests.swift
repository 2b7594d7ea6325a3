import S3
import Shared
import TestSupport
import Testing

@testable import Storage

/// `S3BlobStore` on its own against a real S3 endpoint (`moto_server`, authentication on).
@Suite struct S3BlobStoreTests {
    /// A visibility switch of an object above the CopyObject limit goes by UploadPartCopy pieces, then deletes the
    /// old key: the limit is lowered to 5 MiB here, so a 12 MiB object takes the path a 6 GiB one takes in production.
    @Test func aSwitchAboveTheCopyLimitCopiesInPiecesThenDeletes() throws {
        let moto = try MotoServer.shared.get()
        let bucket = try moto.makeBucket()
        let client = try S3Client(
            S3Configuration(
                bucket: bucket, endpoint: moto.endpoint, pathStyle: true,
                credentials: S3Credentials(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey)))
        let store = S3BlobStore(
            client: client, prefix: "big", partSize: 5 << 20, copyLimit: 5 << 20, copyPieceSize: 5 << 20)
        let bytes = Fixtures.randomBytes(12 << 20 + 321)
        let digest = Fixtures.digest(bytes)
        let upload = try store.beginUpload(digest, visibility: .public, expectedSize: Int64(bytes.count))
        try bytes.withUnsafeBytes { try upload.write($0) }
        #expect(try upload.commit() == .stored)

        #expect(try store.setVisibility(digest, to: .internal))
        let contents = StoredBlobs.bucket(client, prefix: "big")
        #expect(contents.bytes(digest, .internal) == bytes, "the pieces were put together in order")
        let copied = try #require(try client.headObject(key: store.key(digest, .internal)))
        #expect(copied.etag.hasSuffix("-3\""), "a multipart ETag of 3 pieces, so not one CopyObject: \(copied.etag)")
        #expect(!contents.contains(digest, .public), "the old key goes once the copy is whole")
        #expect(try client.listMultipartUploads(prefix: "big").isEmpty)
        #expect(try store.setVisibility(digest, to: .public))
        #expect(contents.bytes(digest, .public) == bytes)
        #expect(!contents.contains(digest, .internal))
    }
}

extension S3BlobStoreTests {
    /// S3 takes at most 10,000 parts: a body that would need more gets parts just large enough (whole MiB).
    @Test func aBodyOverTenThousandPartsGetsLargerParts() throws {
        let credentials = S3Credentials(accessKeyID: "AKID", secretAccessKey: "secret")
        let client = try S3Client(
            S3Configuration(bucket: "b", endpoint: "http://127.0.0.1:9", pathStyle: true, credentials: credentials))
        let store = S3BlobStore(client: client, prefix: "", partSize: 8 << 20)
        #expect(store.partSize(for: 1 << 30) == 8 << 20)
        #expect(store.partSize(for: 10_000 * (8 << 20)) == 8 << 20, "exactly 10,000 parts still fit")
        #expect(store.partSize(for: 10_000 * (8 << 20) + 1) == 9 << 20)
        #expect(store.partSize(for: 100 << 30) == 11 << 20, "100 GiB: 10.24 MiB, rounded up to 11")
    }
}
