import CArchive

#if canImport(Glibc)
import Glibc
#endif

/// Unpacks a fetched archive into the folder it was fetched into, as tooltool.py does, but safely.
///
/// Entries are extracted into a staging folder beside the target and moved into place only when every entry passed
/// `EntryPolicy` (else `.unpackRefused`), so a refused archive leaves nothing behind; only then is the old extracted
/// folder (the archive's name without its extensions) replaced, so a refusal also leaves that as it was. setuid and
/// setgid bits are dropped.
enum Unpacker {
    /// The extensions understood, longest first.
    static let extensions = [
        ".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst", ".tgz", ".tbz2", ".txz", ".tzst", ".tar", ".zip"
    ]

    /// The archive's name without its extension, or nil when the extension is not an archive's.
    static func baseName(of archive: String) -> String? {
        let name = FileSystem.baseName(of: archive)
        guard let ext = extensions.first(where: { name.hasSuffix($0) && name.count > $0.count }) else { return nil }
        return String(name.dropLast(ext.count))
    }

    /// Unpacks `archive` into `folder`.
    static func unpack(archive: String, into folder: String) throws(ClientError) {
        guard let base = baseName(of: archive) else {
            throw ClientError(
                .unpack, "cannot unpack \(archive): expected one of \(extensions.joined(separator: ", "))")
        }
        let staging = FileSystem.temporaryPath(beside: FileSystem.join(folder, base + ".unpack"))
        guard mkdir(staging, 0o700) == 0 else { throw FileSystem.error("cannot create folder", staging) }
        do throws(ClientError) {
            try extract(archive, into: staging)
            try FileSystem.removeTree(FileSystem.join(folder, base))
            try merge(staging, into: folder)
            try FileSystem.removeTree(staging)
        } catch {
            try? FileSystem.removeTree(staging)
            throw error
        }
        Log.info("unpacked \(archive)")
    }

    private static func extract(_ archive: String, into staging: String) throws(ClientError) {
        let reader = try ArchiveReader(path: archive)
        let writer = try DiskWriter(allowAbsolute: staging.hasPrefix("/"))
        while let entry = try reader.next() {
            guard let cPath = archive_entry_pathname(entry) else {
                throw ClientError(.unpack, "an entry has no path")
            }
            let path = String(cString: cPath)
            let kind = self.kind(of: entry)
            if let problem = EntryPolicy.problem(path: path, kind: kind) {
                throw ClientError(.unpackRefused, problem)
            }
            archive_entry_set_pathname(entry, FileSystem.join(staging, path))
            if case .hardlink(let target) = kind { archive_entry_set_hardlink(entry, FileSystem.join(staging, target)) }
            archive_entry_set_perm(entry, archive_entry_perm(entry) & ~Mode.setIDBits)
            try writer.extract(entry, from: reader, name: path)
        }
    }

    private static func kind(of entry: OpaquePointer) -> EntryPolicy.Kind {
        if let link = archive_entry_hardlink(entry) { return .hardlink(String(cString: link)) }
        switch archive_entry_filetype(entry) & Mode.typeMask {
        case Mode.regular: return .regular
        case Mode.directory: return .directory
        case Mode.symlink: return .symlink(archive_entry_symlink(entry).map { String(cString: $0) } ?? "")
        case Mode.characterDevice, Mode.blockDevice: return .device
        default: return .other
        }
    }

    /// Moves everything in `source` into `destination`, merging folders and replacing anything else.
    private static func merge(_ source: String, into destination: String) throws(ClientError) {
        for name in try FileSystem.list(source) {
            let from = FileSystem.join(source, name)
            let to = FileSystem.join(destination, name)
            if FileSystem.isDirectory(from) && FileSystem.isDirectory(to) {
                try merge(from, into: to)
            } else {
                if FileSystem.isDirectory(to) { try FileSystem.removeTree(to) }
                try FileSystem.rename(from, to: to)
            }
        }
    }
}

/// File mode bits (POSIX values; spelled out because Glibc and libarchive both export the macros).
private enum Mode {
    static let typeMask: mode_t = 0o170000
    static let regular: mode_t = 0o100000
    static let directory: mode_t = 0o040000
    static let symlink: mode_t = 0o120000
    static let characterDevice: mode_t = 0o020000
    static let blockDevice: mode_t = 0o060000
    static let setIDBits: mode_t = 0o6000
}
