/// The commands `tooltool` knows, spelled as on its command line (tooltool.py's names).
public enum ClientCommand: String, Sendable, CaseIterable {
    /// Prints the manifest's files.
    case list
    /// Checks the local files against the manifest.
    case validate
    /// Adds files to the manifest.
    case add
    /// Downloads the manifest's files.
    case fetch
    /// Uploads the manifest's files.
    case upload
    /// Moves files between public and internal on the server.
    case changeVisibility = "change-visibility"
    /// Deletes files' instances on the server.
    case delete
    /// Empties the cache folder.
    case purge
}
