/// Response header fields kept in their wire form (`Name: value\r\n` each), written into one allocation as they
/// are made: for responses made on every request, whose fields are known in advance. A blob response's four
/// fields cost about 5,000 instructions through `HTTPHeaders` (an array of `String` pairs, each checked and copied
/// again when the head is written) and through `Array.append` of each piece.
///
/// Names are literals, and never one of the fields the layer writes itself (`Content-Length`, `Connection`,
/// `Transfer-Encoding`): debug builds check that when a field is added. A value holding CR, LF or NUL is left
/// out, with its field, as `HTTPHeaders` fields are.
public struct HTTPHeaderBlock: Sendable {
    /// The fields, each ending with CRLF.
    private(set) var bytes: [UInt8] = []

    /// No fields.
    public init() {}

    /// The fields `write` adds, in one allocation of `maxBytes` bytes: adding more than that is a programming
    /// error and stops the process.
    public init(maxBytes: Int, _ write: (inout Writer) -> Void) {
        bytes = [UInt8](unsafeUninitializedCapacity: maxBytes) { buffer, initialized in
            var writer = Writer(out: ByteWriter(base: UnsafeMutableRawPointer(buffer.baseAddress!), capacity: maxBytes))
            write(&writer)
            initialized = writer.out.count
        }
    }

    /// Adds one more field (a copy of the block when it is shared; for the rarer responses).
    public mutating func add(_ name: StaticString, _ value: String) {
        let old = bytes
        self = HTTPHeaderBlock(maxBytes: old.count + name.utf8CodeUnitCount + value.utf8.count + 4) { writer in
            old.withUnsafeBytes { writer.out.write($0) }
            writer.add(name, value)
        }
    }

    /// Writes fields into a block's memory.
    public struct Writer {
        fileprivate var out: ByteWriter

        /// Adds a field whose value is a literal too (so it is checked in debug builds only, like the name).
        public mutating func add(_ name: StaticString, literal value: StaticString) {
            let bytes = UnsafeBufferPointer(start: value.utf8Start, count: value.utf8CodeUnitCount)
            assert(!HTTPResponse.hasLineBreakOrNUL(bytes), "HTTPHeaderBlock: the value of \(name) has CR, LF or NUL")
            add(name, bytes, quoted: false, checked: true)
        }

        /// Adds a field, its value in double quotes when `quoted` (an entity tag).
        public mutating func add(_ name: StaticString, _ value: String, quoted: Bool = false) {
            value.withBorrowedUTF8 { add(name, $0, quoted: quoted, checked: false) }
        }

        private mutating func add(
            _ name: StaticString, _ value: UnsafeBufferPointer<UInt8>, quoted: Bool, checked: Bool
        ) {
            let nameBytes = UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
            // Names are literals: checked in debug builds (the tests), not on every request.
            assert(
                HTTPResponse.framingRole(String(decoding: nameBytes, as: UTF8.self)) == .other
                    && !HTTPResponse.hasLineBreakOrNUL(nameBytes.bindMemory(to: UInt8.self)),
                "HTTPHeaderBlock: \(name) cannot be added")
            guard checked || !HTTPResponse.hasLineBreakOrNUL(value) else { return }
            out.write(nameBytes)
            out.write(byte: 0x3A)
            out.write(byte: 0x20)
            if quoted { out.write(byte: 0x22) }
            out.write(UnsafeRawBufferPointer(value))
            if quoted { out.write(byte: 0x22) }
            out.write(byte: 0x0D)
            out.write(byte: 0x0A)
        }
    }
}
