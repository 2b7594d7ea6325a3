import Shared

/// What fsck (`StoreChecker`) found.
public struct FsckReport: Sendable, Equatable {
    /// One bad file.
    public struct Finding: Sendable, Equatable {
        /// Its path (before any quarantine).
        public let path: String
        /// What is wrong with it: what was expected and what was found.
        public let reason: String
        /// Where `--repair` moved it, nil when not repaired.
        public let quarantinedTo: String?
    }

    /// Blobs whose content was re-hashed and matched their name.
    public var verified = 0
    /// Blobs whose content does not match their name.
    public var corrupt: [Finding] = []
    /// Files that are not blobs: a name that is not a digest, not a regular file, or a blob in both folders.
    public var stray: [Finding] = []
    /// Verified blobs that had no record (copied in by hand) and were added to the index.
    public var indexed: [Digest] = []
    /// Verified blobs whose record disagreed with the folder (visibility or "stored") and was corrected.
    public var reconciled: [Digest] = []

    /// True when no corrupt or stray file is left in the store (all found ones were quarantined).
    public var isClean: Bool {
        (corrupt + stray).allSatisfy { $0.quarantinedTo != nil }
    }
}
