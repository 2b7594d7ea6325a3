#if canImport(Glibc)
import Glibc
#endif

/// The stat data of a cache entry that a verification stamp records, and the stamp's text form.
///
/// Stamp text (one line, ASCII decimal, single spaces): `v1 DEV INO SIZE MTIME_SEC MTIME_NSEC CTIME_SEC CTIME_NSEC
/// NLINK\n`. Anything else (another version, a missing or extra field, a sign or stray byte) is not a stamp.
struct EntryState: Equatable, Sendable {
    /// `st_dev`.
    var device: UInt64
    /// `st_ino`.
    var inode: UInt64
    /// `st_size`.
    var size: Int64
    /// `st_mtim`.
    var modified: Timestamp
    /// `st_ctim`: moved by every change to the bytes or the inode (write, truncate, utimensat, chmod, link, unlink,
    /// rename) and settable by no one but the clock.
    var changed: Timestamp
    /// `st_nlink`.
    var links: UInt64

    /// The state in `info` (from `lstat`).
    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modified = Timestamp(info.st_mtim)
        changed = Timestamp(info.st_ctim)
        links = UInt64(info.st_nlink)
    }

    /// True when both name the same file (device and inode).
    func isSameFile(as other: EntryState) -> Bool { device == other.device && inode == other.inode }

    /// Why a file now in state `self` may not be taken as the file `stamp` recorded; nil when it may.
    ///
    /// Device, inode, size and mtime must be equal. The ctime must be equal too, with one exception: when the link
    /// count went down and the entry belongs to the caller (`ownedByUs`). Removing a hard-linked target (what every
    /// job that cleans its workspace does) moves the entry's ctime without touching a byte, and would otherwise cost
    /// a full hash on every warm fetch. What this gives up: an in-place edit that also puts the old mtime back,
    /// followed by a removal of a link. Only the entry's owner (or root) can set an explicit mtime, and the owner
    /// could as well write a stamp; another user's entry gets no exception.
    func mismatch(against stamp: EntryState, ownedByUs: Bool) -> String? {
        if !isSameFile(as: stamp) { return "another file (device or inode differs)" }
        if size != stamp.size { return "size differs" }
        if modified != stamp.modified { return "mtime differs" }
        if changed != stamp.changed && !(ownedByUs && links < stamp.links) { return "ctime differs" }
        return nil
    }

    /// The stamp line.
    var stampText: String {
        "v1 \(device) \(inode) \(size) \(modified.seconds) \(modified.nanoseconds) \(changed.seconds) \(changed.nanoseconds) \(links)\n"
    }

    /// Parses a stamp line; nil for anything but the exact form `stampText` writes.
    init?(stampText bytes: [UInt8]) {
        guard bytes.count <= 256, bytes.last == UInt8(ascii: "\n") else { return nil }
        let fields = bytes.dropLast().split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard fields.count == 9, fields[0].elementsEqual("v1".utf8) else { return nil }
        guard let device = Self.unsigned(fields[1]), let inode = Self.unsigned(fields[2]),
            let size = Self.unsigned(fields[3]), size <= UInt64(Int64.max),
            let mtimeSeconds = Self.signed(fields[4]), let mtimeNanoseconds = Self.unsigned(fields[5]),
            let ctimeSeconds = Self.signed(fields[6]), let ctimeNanoseconds = Self.unsigned(fields[7]),
            let links = Self.unsigned(fields[8]),
            mtimeNanoseconds < 1_000_000_000, ctimeNanoseconds < 1_000_000_000
        else { return nil }
        self.device = device
        self.inode = inode
        self.size = Int64(size)
        modified = Timestamp(seconds: mtimeSeconds, nanoseconds: Int(mtimeNanoseconds))
        changed = Timestamp(seconds: ctimeSeconds, nanoseconds: Int(ctimeNanoseconds))
        self.links = links
    }

    /// 1 to 20 ASCII digits (no sign, no space, no leading zero) that fit a `UInt64`.
    private static func unsigned(_ field: ArraySlice<UInt8>) -> UInt64? {
        guard (1...20).contains(field.count), field.count == 1 || field.first != UInt8(ascii: "0") else { return nil }
        var value: UInt64 = 0
        for byte in field {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    /// `unsigned` with an optional leading `-`, fitting an `Int`.
    private static func signed(_ field: ArraySlice<UInt8>) -> Int? {
        if field.first == UInt8(ascii: "-") {
            guard let magnitude = unsigned(field.dropFirst()), magnitude > 0, magnitude <= UInt64(Int.max) else {
                return nil
            }
            return -Int(magnitude)
        }
        guard let value = unsigned(field), value <= UInt64(Int.max) else { return nil }
        return Int(value)
    }
}
