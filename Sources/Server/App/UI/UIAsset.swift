import FoundationEssentials

/// One file of the web page, compiled into the binary by `scripts/embed-ui` (see `UIAssets.generated.swift`).
struct UIAsset: Sendable {
    /// `Content-Type` to answer with.
    let contentType: String
    /// The strong `ETag`, quoted: the first 32 hex characters of the content's SHA-256.
    let etag: String
    /// The content.
    let bytes: [UInt8]

    /// An asset from the generator's base64 text (base64 keeps the generated Swift file quick to compile).
    init(contentType: String, etag: String, base64: String) {
        self.contentType = contentType
        self.etag = etag
        self.bytes = Array(Data(base64Encoded: base64) ?? Data())
    }
}
