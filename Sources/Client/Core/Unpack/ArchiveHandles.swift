import CArchive

#if canImport(Glibc)
import Glibc
#endif

/// A libarchive reader over one archive file (tar in any compression libarchive knows, or zip).
///
/// Owns the `struct archive`; used by one thread.
final class ArchiveReader {
    /// The C handle.
    let handle: OpaquePointer
    /// The archive's path, for messages.
    let path: String

    /// Opens `path` for reading.
    init(path: String) throws(ClientError) {
        guard let handle = archive_read_new() else { throw ClientError(.unpack, "archive_read_new: out of memory") }
        self.handle = handle
        self.path = path
        archive_read_support_filter_all(handle)
        archive_read_support_format_tar(handle)
        archive_read_support_format_gnutar(handle)
        archive_read_support_format_zip(handle)
        try check(archive_read_open_filename(handle, path, 1 << 20), "archive_read_open_filename")
    }

    deinit { archive_read_free(handle) }

    /// The next entry, or nil at the end. The entry is valid until the next call.
    func next() throws(ClientError) -> OpaquePointer? {
        var entry: OpaquePointer?
        let result = archive_read_next_header(handle, &entry)
        if result == ARCHIVE_EOF { return nil }
        try check(result, "archive_read_next_header")
        return entry
    }

    /// Throws when `result` is worse than a warning, with libarchive's message.
    func check(_ result: Int32, _ call: String) throws(ClientError) {
        guard result < ARCHIVE_WARN else { return }
        throw ClientError(.unpack, "\(call): \(ArchiveReader.message(handle))")
    }

    /// libarchive's last error message for `handle`.
    static func message(_ handle: OpaquePointer) -> String {
        archive_error_string(handle).map { String(cString: $0) } ?? "unknown error"
    }
}

/// A libarchive disk writer: creates the files, folders and links of extracted entries.
///
/// Owns the `struct archive`; used by one thread.
final class DiskWriter {
    /// The C handle.
    let handle: OpaquePointer

    /// Makes a writer that restores permissions and times but never owners, and refuses to write through links,
    /// `..` or absolute paths (our own checks run first; these are a second line).
    init(allowAbsolute: Bool) throws(ClientError) {
        guard let handle = archive_write_disk_new() else {
            throw ClientError(.unpack, "archive_write_disk_new: out of memory")
        }
        self.handle = handle
        var flags =
            ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_SYMLINKS
            | ARCHIVE_EXTRACT_SECURE_NODOTDOT
        if !allowAbsolute { flags |= ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS }
        archive_write_disk_set_options(handle, flags)
        archive_write_disk_set_standard_lookup(handle)
    }

    deinit { archive_write_free(handle) }

    /// Writes `entry`'s header (creating the file, folder or link) and then its data from `reader`.
    func extract(_ entry: OpaquePointer, from reader: ArchiveReader, name: String) throws(ClientError) {
        try check(archive_write_header(handle, entry), "archive_write_header", name)
        if archive_entry_size(entry) > 0 {
            var block: UnsafeRawPointer?
            var size = 0
            var offset: la_int64_t = 0
            while true {
                let result = archive_read_data_block(reader.handle, &block, &size, &offset)
                if result == ARCHIVE_EOF { break }
                try reader.check(result, "archive_read_data_block")
                let written = archive_write_data_block(handle, block, size, offset)
                if written < 0 { try check(Int32(written), "archive_write_data_block", name) }
            }
        }
        try check(archive_write_finish_entry(handle), "archive_write_finish_entry", name)
    }

    private func check(_ result: Int32, _ call: String, _ name: String) throws(ClientError) {
        guard result < ARCHIVE_WARN else { return }
        throw ClientError(.unpack, "\(name): \(call): \(ArchiveReader.message(handle))")
    }
}
