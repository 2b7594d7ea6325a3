import Shared

extension SQLiteMetadataIndex {
    /// Files and bytes per visibility, kept by triggers in `file_totals`, so reading them scans nothing.
    public func visibilityTotals() throws(IndexError) -> [Visibility: VisibilityTotals] {
        try withConnection { (db) throws(IndexError) -> [Visibility: VisibilityTotals] in
            var totals: [Visibility: VisibilityTotals] = [:]
            let rows = try db.query("SELECT visibility, files, bytes FROM file_totals") { row in
                (row.text(0), VisibilityTotals(files: row.int64(1), bytes: row.int64(2)))
            }
            for (name, value) in rows {
                if let visibility = Visibility(rawValue: name) { totals[visibility] = value }
            }
            return totals
        }
    }
}
