/// Unpacks archives (stub until the libarchive wrapper lands).
enum Unpacker {
    /// Unpacks `archive` into `folder`.
    static func unpack(archive: String, into folder: String) throws(ClientError) {
        throw ClientError(.unpack, "unpack not implemented yet")
    }
}
