import Shared

/// libFuzzer target: the JSON parser that reads every request body and manifest (depth-limited).
/// Property: whatever it accepts, the writer's output parses and writes back identically.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    let text = JSONWriter.write(value)
    guard let again = try? JSONParser.parse(text) else { fatalError("written JSON does not parse: \(text)") }
    precondition(JSONWriter.write(again) == text, "JSON changes on a round trip: \(text)")
    return 0
}
