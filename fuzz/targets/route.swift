import Shared

/// libFuzzer target: request-target handling: the layer's path/query split (`HTTPRequestHead`), the blob route's
/// digest parser, the query parser, hex, and the `Range` parser, each with the property a router relies on.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRoute(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)
    let head = HTTPRequestHead(method: .get, target: text)
    precondition(head.path + (head.query.map { "?" + $0 } ?? "") == text, "path and query do not add up to the target")
    precondition(!head.path.utf8.contains(UInt8(ascii: "?")), "a path with a ?")
    if head.path.hasPrefix("/sha512/"), let digest = try? Digest(parsing: head.path.dropFirst("/sha512/".count)) {
        // Only exactly 128 lowercase hex characters name a blob: nothing that could walk out of the folder.
        precondition(digest.hex.utf8.count == 128 && digest.hex.utf8.allSatisfy(Hex.isLowercaseHexDigit))
        precondition(Routes.blob(digest) == head.path)
    }
    _ = try? Digest(parsing: text)
    if let query = QueryString(head.query) {
        for (name, value) in query.pairs {
            precondition(query.count(name) >= 1 && query[name] != nil, "lost \(name)=\(value)")
        }
    }
    if let decoded = Hex.decode(text) { precondition(Hex.encode(decoded) == text.lowercased(), "hex round trip") }
    let fileSize = Int64(bytes.first ?? 0) * 37
    switch ByteRange.parse(text, size: fileSize) {
    case .partial(let first, let last):
        precondition(0 <= first && first <= last && last < fileSize, "range \(first)-\(last) outside \(fileSize) bytes")
    case .whole, .unsatisfiable, .invalid:
        break
    }
    return 0
}
