import Shared
import Testing

@testable import Storage

/// Uploads large enough to hash on a second core (`FileSystemUpload.pipelineThreshold`) verify exactly like
/// small ones, whatever the sizes of the pieces they arrive in.
@Suite struct LargeUploadTests {
    /// Writes `bytes` in pieces of the given sizes, cycling through them.
    private func write(_ bytes: [UInt8], to writer: any BlobUpload, pieces: [Int]) throws {
        var offset = 0, turn = 0
        while offset < bytes.count {
            let n = min(pieces[turn % pieces.count], bytes.count - offset)
            try bytes[offset..<(offset + n)].withUnsafeBytes { try writer.write($0) }
            offset += n
            turn += 1
        }
    }

    @Test func largeUploadInUnevenPiecesIsStoredWhole() throws {
        let root = TempRoot()
        defer { root.remove() }
        let store = try FileSystemBlobStore(root: root.path)
        let blob = Blob(size: Int(FileSystemUpload.pipelineThreshold) + 3 * 262_144 + 17)
        let writer = try store.beginUpload(blob.digest, visibility: .public, expectedSize: Int64(blob.bytes.count))
        // Smaller than, equal to and larger than a hashing slot, so pieces straddle slot boundaries.
        try write(blob.bytes, to: writer, pieces: [1, 65_536, 262_144, 700_001, 3])
        #expect(try writer.commit() == .stored)
        #expect(readFile(store.path(for: blob.digest, visibility: .public)) == blob.bytes)
    }

    @Test func largeUploadWithOneChangedByteIsRefused() throws {
        let root = TempRoot()
        defer { root.remove() }
        let store = try FileSystemBlobStore(root: root.path)
        let blob = Blob(size: Int(FileSystemUpload.pipelineThreshold) + 1)
        var sent = blob.bytes
        sent[sent.count - 1] ^= 1
        let writer = try store.beginUpload(blob.digest, visibility: .internal, expectedSize: Int64(sent.count))
        try write(sent, to: writer, pieces: [262_144])
        let error = #expect(throws: StorageError.self) { try writer.commit() }
        #expect(
            error
                == .digestMismatch(
                    expected: blob.digest, actual: StreamingHasher.digest(of: sent),
                    expectedSize: Int64(sent.count), actualSize: Int64(sent.count)))
        #expect(try store.locate(blob.digest) == nil)
        #expect(entries(store.temporaryDirectory).isEmpty)
    }
}
