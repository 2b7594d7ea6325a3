import Shared

/// libFuzzer target: the manifest reader (`Manifest(parsing:)`, over Shared's JSON parser).
/// Property: whatever it accepts, its own serialization reads back to the same manifest.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let manifest = try? Manifest(parsing: bytes) else { return 0 }
    let text = manifest.serialized()
    guard let again = try? Manifest(parsing: text) else { fatalError("serialized manifest does not parse: \(text)") }
    precondition(again == manifest, "manifest changes on a round trip: \(text)")
    return 0
}
