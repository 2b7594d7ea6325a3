#if DEBUG
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Test builds only: storage failures the OS cannot produce on demand (EIO, EDQUOT, a failed `fsync` or `link`),
/// injected into uploads so the fault tests can drive them through the real server.
///
/// `serve` reads a plan from `TOOLTOOL_TEST_STORAGE_FAULTS`: a comma-separated list with one entry per upload, in
/// the order uploads begin. An entry is `none` (that upload runs clean) or `OP:ERRNO[:OFFSET]`:
/// - `open:E`: `beginUpload` fails with E before any temp file exists (the answer comes before the body);
/// - `write:E:N`: the write that would take the temp file past N bytes writes up to N, then fails with E;
/// - `fsync:E`, `link:E`: the upload's `fsync`, or its `link` under the final name, fails with E (after the body);
/// - `stall:S`: no failure, but the upload's commit waits S seconds before its `fsync` (a slow disk after the whole
///   body, so a test can kill the server at that moment).
///
/// Uploads past the end of the list run clean. Release builds contain none of this.
public final class StorageFaults: Sendable {
    /// Where a fault strikes.
    public enum Operation: String, Sendable {
        case open, write, fsync, link, stall
    }

    /// One planned failure.
    public struct Fault: Sendable, Equatable {
        /// The call that fails.
        public let operation: Operation
        /// The errno it fails with.
        public let code: Int32
        /// For `write`: bytes written before the failure; for `stall`: the seconds to wait.
        public let offset: Int64
    }

    /// The environment variable `serve` reads the plan from.
    public static let environmentVariable = "TOOLTOOL_TEST_STORAGE_FAULTS"

    /// The errno names a plan may use.
    static let codes: [String: Int32] = [
        "EIO": EIO, "ENOSPC": ENOSPC, "EDQUOT": EDQUOT, "EFBIG": EFBIG, "EROFS": EROFS, "EMFILE": EMFILE,
        "EMLINK": EMLINK, "ENOENT": ENOENT, "EACCES": EACCES
    ]

    /// The plan as given, for the start-up log line.
    public let plan: String
    /// The faults of the uploads to come, the next one last.
    private let pending: Mutex<[Fault?]>

    /// Parses a plan; throws a message naming the bad entry.
    public init(plan: String) throws(StorageFaultPlanError) {
        self.plan = plan
        var faults: [Fault?] = []
        for entry in plan.split(separator: ",", omittingEmptySubsequences: false) {
            let entry = entry.trimmingCharacters(in: " ")
            if entry == "none" {
                faults.append(nil)
                continue
            }
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 2, parts[0] == Operation.stall.rawValue {
                guard let seconds = Int64(parts[1]), seconds >= 0 else {
                    throw StorageFaultPlanError(entry: entry, reason: "stall takes a number of seconds")
                }
                faults.append(Fault(operation: .stall, code: 0, offset: seconds))
                continue
            }
            guard (2...3).contains(parts.count), let operation = Operation(rawValue: parts[0]),
                let code = Self.codes[parts[1]]
            else {
                throw StorageFaultPlanError(
                    entry: entry,
                    reason: "expected none, stall:SECONDS or OP:ERRNO[:OFFSET] with OP one of open, "
                        + "write, fsync, link and ERRNO one of \(Self.codes.keys.sorted().joined(separator: ", "))")
            }
            var offset: Int64 = 0
            if parts.count == 3 {
                guard operation == .write, let value = Int64(parts[2]), value >= 0 else {
                    throw StorageFaultPlanError(entry: entry, reason: "only write takes an offset, a number of bytes")
                }
                offset = value
            }
            faults.append(Fault(operation: operation, code: code, offset: offset))
        }
        pending = Mutex(faults.reversed())
    }

    /// The plan in `TOOLTOOL_TEST_STORAGE_FAULTS`, nil when it is unset or empty.
    static func fromEnvironment() throws(StorageError) -> StorageFaults? {
        guard let plan = getenv(environmentVariable).map({ String(cString: $0) }), !plan.isEmpty else { return nil }
        do {
            return try StorageFaults(plan: plan)
        } catch {
            throw StorageError.io(call: "\(environmentVariable): \(error)", path: plan, errno: EINVAL)
        }
    }

    /// The fault planned for the next upload to begin (nil: it runs clean).
    func next() -> Fault? {
        pending.withLock { $0.popLast() ?? nil }
    }
}

/// A `TOOLTOOL_TEST_STORAGE_FAULTS` entry that does not parse.
public struct StorageFaultPlanError: Error, CustomStringConvertible {
    /// The entry.
    public let entry: String
    /// What was expected.
    public let reason: String
    public var description: String { "bad storage fault \(entry.debugDescription): \(reason)" }
}

extension Substring {
    /// The text without leading and trailing `character`s.
    fileprivate func trimmingCharacters(in character: Character) -> String {
        String(drop { $0 == character }.reversed().drop { $0 == character }.reversed())
    }
}
#endif
