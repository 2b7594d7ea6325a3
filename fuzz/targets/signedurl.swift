import Shared

/// libFuzzer target: the signed upload URL check: the query parser, then `UploadSigner.verify` as the PUT route
/// calls it. Property: only the signature the signer itself makes for (digest, visibility, expires) verifies.
private let signer = UploadSigner(secret: Array("fuzzing secret, 32 bytes long!!!".utf8))
private let digest = try! Digest(parsing: String(repeating: "ab", count: 64))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSignedURL(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let query = QueryString(text) else { return 0 }
    let visibility = Visibility(name: query["visibility"] ?? "internal") ?? .internal
    let expires = Int64(query["expires"] ?? "") ?? 0
    let signature = query["signature"] ?? ""
    let expected = signer.signature(digest: digest, visibility: visibility, expires: expires)
    let verified = signer.verify(digest: digest, visibility: visibility, expires: expires, signature: signature)
    precondition(
        verified == (Hex.decode(signature) == Hex.decode(expected)), "verify disagrees with the signer for \(text)")
    precondition(signer.verify(digest: digest, visibility: visibility, expires: expires, signature: expected))
    return 0
}
