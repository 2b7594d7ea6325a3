/// The verification stamps of one user, all in one file: `<cache>/.verified-<euid>/stamps`.
///
/// One line per cache entry: its 128 lowercase hex digest, a space, then the stamp text `EntryState` writes
/// (`v1 DEV INO SIZE MTIME_SEC MTIME_NSEC CTIME_SEC CTIME_NSEC NLINK\n`). One file rather than one per entry
/// because creating a file is the dear part of a fill (an inode each: about 0.7 ms on this machine's ext4, against
/// 20 µs for a link), and reading it once at the start of a fetch leaves a hit no stamp to open.
///
/// Read strictly: a named line whose stamp is not exactly the documented form, a last line cut short, and a name
/// given twice all make that entry's stamp `garbled` (it is hashed, never trusted); lines without a valid name are
/// skipped. Written whole (temp file, then rename) with the lines in name order; garbled lines are dropped then.
struct StampTable: Sendable, Equatable {
    /// The file's name in the stamp folder.
    static let fileName = "stamps"

    /// What the table says about one entry.
    enum Line: Sendable, Equatable {
        /// A stamp in the documented form.
        case stamp(EntryState)
        /// Something that is not a stamp: never trusted.
        case garbled
    }

    /// The lines, by hex digest.
    var lines: [String: Line] = [:]

    /// An empty table.
    init() {}

    /// Parses the file's bytes.
    init(text: [UInt8]) {
        var start = 0
        while start < text.count {
            let end = text[start...].firstIndex(of: UInt8(ascii: "\n"))
            let line = text[start..<(end ?? text.count)]
            start = (end ?? text.count) + 1
            guard line.count >= 129, line[line.startIndex + 128] == UInt8(ascii: " ") else { continue }
            let nameBytes = line.prefix(128)
            guard nameBytes.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { continue }
            let name = String(decoding: nameBytes, as: UTF8.self)
            var parsed = Line.garbled
            if end != nil, let state = EntryState(stampText: Array(line.dropFirst(129)) + [UInt8(ascii: "\n")]) {
                parsed = .stamp(state)
            }
            lines[name] = lines[name] == nil ? parsed : .garbled
        }
    }

    /// The file's bytes: every stamp (garbled lines dropped), in name order.
    var text: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(lines.count * 196)
        for name in lines.keys.sorted() {
            guard case .stamp(let state) = lines[name] else { continue }
            out += Array(name.utf8)
            out.append(UInt8(ascii: " "))
            out += Array(state.stampText.utf8)
        }
        return out
    }
}
