import Storage
import Testing

/// `--blob-store`: folders, `s3://BUCKET[/PREFIX]`, and what is refused.
@Suite struct BlobStoreLocationTests {
    @Test func foldersAndBucketsParse() throws {
        #expect(try BlobStoreLocation(parsing: "/srv/tooltool") == .directory("/srv/tooltool"))
        #expect(try BlobStoreLocation(parsing: "file:///srv/t") == .directory("/srv/t"))
        #expect(try BlobStoreLocation(parsing: "s3://artifacts") == .s3(bucket: "artifacts", prefix: ""))
        #expect(
            try BlobStoreLocation(parsing: " s3://ci.artifacts-1/tooltool/prod/ ")
                == .s3(bucket: "ci.artifacts-1", prefix: "tooltool/prod"))
        #expect(try BlobStoreLocation(parsing: "s3://artifacts/t").description == "s3://artifacts/t")
    }

    @Test(arguments: [
        "", "s3://", "s3://AB", "s3://Upper-Case", "s3://-dash", "s3://a_b_c", "s3://bucket/a//b",
        "s3://bucket/../x", "gs://bucket", "http://host/x"
    ])
    func badLocationsAreRefusedWithAReason(_ text: String) {
        #expect(throws: StorageError.self) { try BlobStoreLocation(parsing: text) }
    }
}
