import Foundation
import Shared
import TestSupport
import Testing

/// Storage failures in the middle of uploads of 1 MiB (hashed inline) and 64 MiB (hashed on a second core), at
/// several offsets, each followed by GETs and the same upload again on the same server process.
///
/// Injected (a test build's `TOOLTOOL_TEST_STORAGE_FAULTS`, see `StorageFaults`), because the OS cannot fail a
/// write with EIO or EDQUOT, or an fsync or a link, on demand here: no device-mapper, no tmpfs quotas. The real ones
/// (ENOSPC from a full tmpfs, EFBIG from a file-size limit) are in `AbandonedUploadTests` and `ServerFaultTests`.
@Suite struct StorageFaultTests {
    /// One failure class: where it strikes, the errno, the answer a client must get and, for a failing write, the
    /// offsets into the body (as fractions of the size; the ring's slots are 256 KiB, so 0.004 of 64 MiB is mid-slot).
    struct FaultClass: Sendable, CustomTestStringConvertible {
        let operation: String
        let code: String
        let status: Int
        let name: APIErrorName
        var offsets: [Double] = []
        var testDescription: String { "\(operation) \(code)" }
        /// Bytes into a body of `size` at which the write fails; one `nil` for the steps after the whole body.
        func offsets(size: Int) -> [Int?] {
            operation == "write" ? offsets.map { min(Int(Double(size) * $0) + 1, size - 1) } : [nil]
        }
        func entry(offset: Int?) -> String {
            "\(operation):\(code)" + (offset.map { ":\($0)" } ?? "")
        }
    }

    /// Every class at 1 MiB and 64 MiB; the write failures between them at 0, mid-slot, 40 % and the last byte.
    static let classes: [FaultClass] = [
        FaultClass(
            operation: "write", code: "EIO", status: 500, name: .internalServerError, offsets: [0, 0.004, 0.4, 1]),
        FaultClass(operation: "write", code: "EDQUOT", status: 507, name: .insufficientStorage, offsets: [0, 0.4]),
        FaultClass(operation: "write", code: "ENOSPC", status: 507, name: .insufficientStorage, offsets: [0.004, 1]),
        FaultClass(operation: "write", code: "EFBIG", status: 500, name: .internalServerError, offsets: [0.4, 1]),
        FaultClass(operation: "fsync", code: "EIO", status: 500, name: .internalServerError),
        FaultClass(operation: "fsync", code: "ENOSPC", status: 507, name: .insufficientStorage),
        FaultClass(operation: "link", code: "EIO", status: 500, name: .internalServerError),
        FaultClass(operation: "link", code: "EMLINK", status: 500, name: .internalServerError),
        FaultClass(operation: "link", code: "ENOSPC", status: 507, name: .insufficientStorage),
        FaultClass(operation: "open", code: "ENOSPC", status: 507, name: .insufficientStorage),
        FaultClass(operation: "open", code: "EMFILE", status: 500, name: .internalServerError)
    ]
    static let sizes = [1 << 20, 64 << 20]
    /// Random bytes shared by every case (each changes its first byte): making 64 MiB per case was most of the time.
    static let base = Fixtures.randomBytes(64 << 20)

    @Test(arguments: classes)
    func aStorageFailureEndsOnlyItsUpload(_ fault: FaultClass) throws {
        // Each faulted upload is followed by the same upload again, which must run clean.
        var cases: [(size: Int, offset: Int?)] = []
        for size in Self.sizes { for offset in fault.offsets(size: size) { cases.append((size, offset)) } }
        let plan = (["none"] + cases.flatMap { [fault.entry(offset: $0.offset), "none"] }).joined(separator: ",")
        let store = try Store(tokens: ServerFaultTests.uploader, environment: ["TOOLTOOL_TEST_STORAGE_FAULTS": plan])
        defer { store.server.stop() }
        #expect(store.server.stderr().contains("injecting storage faults"), "the test build read the plan")
        let kept = Fixtures.randomBytes(1000)
        #expect(try store.put(kept, user: "up").status == 200)

        var base = Self.base
        base[1] = UInt8(Self.classes.firstIndex { $0.testDescription == fault.testDescription }!)  // a blob per class
        for (index, (size, offset)) in cases.enumerated() {
            let label = "\(fault.entry(offset: offset)) into \(size >> 20) MiB:"
            base[0] = UInt8(index)  // a new blob per case
            let bytes = Array(base[..<size])
            let digest = Fixtures.digest(bytes)
            let answer = try store.putAllowingAnEarlyAnswer(bytes, user: "up")
            expectError(answer, fault.status, fault.name, label)
            if fault.status == 507 {
                #expect(answer.text.contains("disk is full"), "\(label) \(answer.text)")
            } else {
                #expect(
                    store.server.stderr().contains("\(fault.operation)("), "\(label) the log names the failing call")
            }
            #expect(
                eventually { store.temporaryFiles().isEmpty }, "\(label) temp files left: \(store.temporaryFiles())")
            for visibility in Visibility.allCases {
                #expect(!exists(store.blobPath(digest, visibility)), "\(label) nothing under the final name")
            }
            #expect(store.server.isRunning, "\(label) the server died: \(store.server.ending ?? "")")
            #expect(try store.request("GET", "/sha512/\(digest.hex)").status == 404, "\(label)")
            let servesKept = store.serves(kept)
            #expect(servesKept, "\(label) a stored blob is still served")
            let again = try store.put(bytes, user: "up")
            #expect(again.status == 200, "\(label) the same upload then works: \(again.text)")
            // not a 64 MiB GET: slow in a debug test
            let stored = Fixtures.read(store.blobPath(digest, .public)).map(Fixtures.digest)
            #expect(stored == digest, "\(label) and is stored whole")
        }
        // An upload refused at `open` never started, so only the others count as rejected.
        let rejected = fault.operation == "open" ? 0 : cases.count
        let metrics = try store.request("GET", "/metrics").text
        #expect(metrics.contains("tooltool_uploads_total{outcome=\"rejected\"} \(rejected)"), "\(metrics)")
    }

    /// A plan that does not parse stops `serve` with a message naming the entry, before it listens.
    @Test func aBadFaultPlanIsRefusedAtStart() throws {
        let directory = TemporaryDirectory(prefix: "faults")
        #expect(throws: ServerProcessError.self) {
            _ = try ServerProcess(root: directory.path, environment: ["TOOLTOOL_TEST_STORAGE_FAULTS": "write:EWHAT:3"])
        }
    }
}
