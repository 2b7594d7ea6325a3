import ArgumentParser
import Storage

/// `tooltool-server fsck [--repair]`: re-hash every blob, index hand-copied ones, report (and quarantine) bad ones.
struct FsckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fsck", abstract: "Verify every blob against its name; exit 0 only when the store is clean.",
        discussion: "Corrupt blobs (content does not match the name) and stray files are reported; with --repair they "
            + "are moved to quarantine/, never deleted. Blobs copied in by hand are indexed.")

    @OptionGroup var store: StoreOptions
    @Flag(help: "Move corrupt and stray files to quarantine/.") var repair = false

    func run() throws {
        let store = try self.store.openBlobStore()
        let index = try self.store.openIndex()
        let checker = StoreChecker(store: store, index: index, repair: repair, parallelism: store.isLocal ? 1 : 8)
        let report: FsckReport
        do { report = try checker.run() } catch { throw CommandFailure("fsck failed: \(error)") }
        for finding in report.corrupt {
            print(
                "corrupt\t\(finding.path)\t\(finding.reason)"
                    + (finding.quarantinedTo.map { "\tquarantined to \($0)" } ?? ""))
        }
        for finding in report.stray {
            print(
                "stray\t\(finding.path)\t\(finding.reason)"
                    + (finding.quarantinedTo.map { "\tquarantined to \($0)" } ?? ""))
        }
        for digest in report.indexed { print("indexed\t\(digest.hex)") }
        for digest in report.reconciled { print("reconciled\t\(digest.hex)") }
        print(
            "verified \(report.verified) blob(s); \(report.corrupt.count) corrupt, \(report.stray.count) stray"
                + (report.isClean ? "; clean" : "; NOT clean (run with --repair to quarantine)"))
        if !report.isClean { throw ExitCode(1) }
    }
}
