import Shared
import TestSupport

@testable import Storage

/// The index implementations the shared suite (`MetadataIndexTests`) runs against.
enum IndexBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    var description: String { rawValue }
}

/// A fresh, empty index of one backend for one test; `remove()` drops it.
final class IndexUnderTest {
    /// Where it lives.
    let location: IndexLocation
    private let root: TempRoot?

    init(_ backend: IndexBackend) throws {
        switch backend {
        case .sqlite:
            let root = TempRoot()
            self.root = root
            location = .defaultSQLite(root: root.path)
        case .postgres:
            // A fresh database on the test process's PostgreSQL cluster (dropped with the cluster at exit).
            root = nil
            location = .postgres(uri: try PostgresCluster.freshDatabase())
        }
    }

    /// A new handle on the index (another connection, as another thread or process would have).
    func open(clock: @escaping @Sendable () -> Int64 = WallClock.now) throws -> any MetadataIndex {
        try location.open(clock: clock)
    }

    /// Removes the index.
    func remove() {
        root?.remove()
    }
}
