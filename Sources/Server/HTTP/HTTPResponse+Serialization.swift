extension HTTPResponse {
    /// Whether this status may carry a body (not 1xx, 204 or 304).
    var allowsBody: Bool { status.allowsBody }

    /// The status line and headers, ending with the empty line.
    ///
    /// The layer owns framing: it writes `Content-Length` (the body's, or the handler's own on a HEAD response)
    /// and `Connection`, drops any `Transfer-Encoding`, and skips fields whose name or value holds CR, LF or NUL.
    /// The fields of `headerBlock` (checked when they were added) follow those of `headers`.
    func serializedHead(isHead: Bool, close: Bool, keepAliveHeader: Bool) -> [UInt8] {
        // Sized first, then written with one copy per piece into one allocation: it runs once per response.
        let reason = status.reasonPhrase
        var ownLength: String?
        var room = 9 + 21 + 1 + reason.utf8.count + 2  // status line
        let fields = headers.fields
        for index in fields.indices {  // indices, not `for (name, value) in`: no copy of each field
            switch Self.framingRole(fields[index].name) {
            case .contentLength: ownLength = fields[index].value
            case .connection, .transferEncoding: break
            case .other: room += fields[index].name.utf8.count + 2 + fields[index].value.utf8.count + 2
            }
        }
        room += headerBlock.bytes.count
        room += 16 + 21 + 2 + 24 + 2  // Content-Length, Connection, the empty line
        return [UInt8](unsafeUninitializedCapacity: room) { buffer, initialized in
            var out = ByteWriter(base: UnsafeMutableRawPointer(buffer.baseAddress!), capacity: room)
            out.write(literal: "HTTP/1.1 ")
            out.write(decimal: Int64(status.code))
            out.write(byte: 0x20)
            out.write(reason)
            out.write(literal: "\r\n")
            for index in fields.indices {
                let name = fields[index].name, value = fields[index].value
                guard Self.framingRole(name) == .other else { continue }
                // A field with CR, LF or NUL in its name or value is left out whole.
                let mark = out.count
                guard out.writeIfNoLineBreakOrNUL(name) else { continue }
                out.write(byte: 0x3A)
                out.write(byte: 0x20)
                guard out.writeIfNoLineBreakOrNUL(value) else {
                    out.rewind(to: mark)
                    continue
                }
                out.write(byte: 0x0D)
                out.write(byte: 0x0A)
            }
            headerBlock.bytes.withUnsafeBytes { out.write($0) }
            if allowsBody {
                let length = isHead ? (ownLength.flatMap { Int64($0) } ?? body.count) : body.count
                out.write(literal: "Content-Length: ")
                out.write(decimal: length)
                out.write(literal: "\r\n")
            }
            if close {
                out.write(literal: "Connection: close\r\n")
            } else if keepAliveHeader {
                out.write(literal: "Connection: keep-alive\r\n")
            }
            out.write(literal: "\r\n")
            initialized = out.count
        }
    }

    /// The fields the layer writes itself.
    enum FramingRole {
        case contentLength, connection, transferEncoding, other
    }

    /// Which framing field `name` is, if any; the length decides first, so most names cost no comparison (three
    /// comparisons per field were 600 instructions of a blob response's head).
    static func framingRole(_ name: String) -> FramingRole {
        switch name.utf8.count {
        case 14: return HTTPHeaders.equalNames(name, "Content-Length") ? .contentLength : .other
        case 10: return HTTPHeaders.equalNames(name, "Connection") ? .connection : .other
        case 17: return HTTPHeaders.equalNames(name, "Transfer-Encoding") ? .transferEncoding : .other
        default: return .other
        }
    }

    /// True when `bytes` holds a CR, LF or NUL.
    ///
    /// Eight bytes at a time look for any byte below 0x20 (all three are); only a word that has one (a tab, say)
    /// is checked byte by byte. A plain byte loop was 4% of a small GET.
    static func hasLineBreakOrNUL(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = bytes.count
        guard let base = bytes.baseAddress else { return false }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= count {
            let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            // Sets a byte's high bit for every byte below 0x20 (and possibly for bytes of 0xA0 and up).
            let low = (word &- 0x2020_2020_2020_2020) & ~word & 0x8080_8080_8080_8080
            if low != 0 {
                for j in i..<(i + 8) where base[j] == 13 || base[j] == 10 || base[j] == 0 { return true }
            }
            i += 8
        }
        while i < count {
            if base[i] == 13 || base[i] == 10 || base[i] == 0 { return true }
            i += 1
        }
        return false
    }
}
