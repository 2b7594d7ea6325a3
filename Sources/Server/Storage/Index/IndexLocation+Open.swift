extension IndexLocation {
    /// Opens the index here, creating and migrating its schema as needed. A schema newer than this code knows is
    /// refused (`.corrupt`), so an old server never writes to a database a newer one migrated.
    ///
    /// - Parameter clock: Unix seconds now; tests pass a fixed one.
    public func open(clock: @escaping @Sendable () -> Int64 = WallClock.now) throws(IndexError) -> any MetadataIndex {
        switch self {
        case .sqlite(let path):
            return try SQLiteMetadataIndex(path: path, clock: clock)
        case .postgres(let uri):
            return try PostgresMetadataIndex(uri: uri, clock: clock)
        }
    }
}
