import Testing

@testable import Shared

@Suite("JSON parser and writer")
struct JSONTests {
    @Test(
        "strict parsing refuses what RFC 8259 refuses",
        arguments: [
            "", "[1,]", "{\"a\":1,}", "01", "1.", ".5", "+1", "'a'", "[1 2]", "{\"a\" 1}", "nul", "\"\\x\"", "\"a\nb\"",
            "{\"a\":1,\"a\":2}", "\"\\ud800\"", "[] []", "NaN", "1e999"
        ])
    func refuses(text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test("deep nesting is refused, not a stack overflow")
    func depth() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let ok = String(repeating: "[", count: 60) + String(repeating: "]", count: 60)
        #expect(throws: Never.self) { try JSONParser.parse(ok) }
    }

    @Test("values and escapes")
    func values() throws {
        let value = try JSONParser.parse(
            #"{"s":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","i":-12,"d":1.5e3,"b":[true,false,null]}"#)
        #expect(value["s"] == .string("a\"\\/\u{8}\u{c}\n\r\té😀"))
        #expect(value["i"] == .int(-12))
        #expect(value["d"] == .double(1500))
        #expect(value["b"] == [true, false, nil])
        #expect(
            JSONWriter.write(value)
                == #"{"s":"a\"\\/\b\f\n\r\t\u00e9\ud83d\ude00","i":-12,"d":1500.0,"b":[true,false,null]}"#)
    }

    @Test("floats are written as Python's repr writes them")
    func floats() {
        #expect(JSONWriter.pythonRepr(1e20) == "1e+20")
        #expect(JSONWriter.pythonRepr(1e-5) == "1e-05")
        #expect(JSONWriter.pythonRepr(0.5) == "0.5")
        #expect(JSONWriter.pythonRepr(1.0) == "1.0")
        #expect(JSONWriter.pythonRepr(123456789012345678.0) == "1.2345678901234568e+17")
    }

    @Test("the error body has one shape")
    func errorBody() {
        let error = APIError(name: .digestMismatch, description: "expected a, got b")
        #expect(error.body == #"{"error":{"name":"DigestMismatch","description":"expected a, got b"}}"#)
        #expect(APIError(body: Array(error.body.utf8)) == error)
        #expect(APIError(body: Array("{}".utf8)) == nil)
    }

    @Test("every error name survives the body, and another server's names are kept as sent")
    func errorNames() throws {
        for name in APIErrorName.allCases {
            let body = APIError(name: name, description: "d").body
            let read = try #require(APIError(body: Array(body.utf8)))
            #expect(read.name == name.rawValue && read.knownName == name)
        }
        #expect(Set(APIErrorName.allCases.map(\.rawValue)).count == APIErrorName.allCases.count)
        let foreign = try #require(APIError(body: Array(#"{"error":{"name":"TooLarge","description":"d"}}"#.utf8)))
        #expect(foreign.name == "TooLarge" && foreign.knownName == nil)
    }

    @Test("visibility aliases and permissions")
    func model() {
        #expect(Visibility(name: "pvt") == .internal)
        #expect(Visibility(name: "pub") == .public)
        #expect(Visibility(name: "private") == nil)
        #expect(Visibility.internal.folderName == "pvt")
        #expect(Permission(name: "tooltool.download.internal") == .downloadInternal)
        #expect(Permission(name: "manage") == .manage)
        #expect(Permission(name: "admin") == nil)
    }
}
