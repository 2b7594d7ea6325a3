import Glibc

/// Writes bytes into memory the caller sized beforehand: `memcpy` per piece, no growth checks. Public for the
/// access log, which builds one line per request the same way.
///
/// Building a response head by appending to an `[UInt8]` cost about 100 instructions per piece (capacity and
/// uniqueness checks, the generic copy); this is a pointer and a cursor. The caller must reserve enough room:
/// every write checks it with a precondition.
public struct ByteWriter {
    private let base: UnsafeMutableRawPointer
    private let capacity: Int
    /// Bytes written so far.
    public private(set) var count = 0

    /// A writer over `capacity` bytes at `base`.
    public init(base: UnsafeMutableRawPointer, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    /// Writes the UTF-8 bytes of `text`.
    public mutating func write(_ text: String) {
        text.withBorrowedUTF8 { write(UnsafeRawBufferPointer($0)) }
    }

    /// Writes a literal's bytes: no `String` to look into (78 instructions a piece through `write(_: String)`).
    public mutating func write(literal: StaticString) {
        write(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Writes `text` when it holds no CR, LF or NUL and returns true; else writes nothing and returns false. One
    /// look into the string for both (`HTTPResponse` field names and values).
    mutating func writeIfNoLineBreakOrNUL(_ text: String) -> Bool {
        func checked(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            guard !HTTPResponse.hasLineBreakOrNUL(bytes) else { return false }
            write(UnsafeRawBufferPointer(bytes))
            return true
        }
        return text.withBorrowedUTF8(checked)
    }

    /// Moves the cursor back to `mark` (an earlier `count`), dropping what was written after it.
    mutating func rewind(to mark: Int) {
        precondition(mark >= 0 && mark <= count, "ByteWriter: rewind past the start or forward")
        count = mark
    }

    /// Writes `bytes`.
    public mutating func write(_ bytes: UnsafeRawBufferPointer) {
        precondition(count + bytes.count <= capacity, "ByteWriter: room for \(capacity) bytes was reserved")
        if let source = bytes.baseAddress, bytes.count > 0 { memcpy(base + count, source, bytes.count) }
        count += bytes.count
    }

    /// Writes one byte.
    public mutating func write(byte: UInt8) {
        precondition(count < capacity, "ByteWriter: room for \(capacity) bytes was reserved")
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Writes the decimal digits of `value` (at most 19 bytes, and a sign), straight into place: counted first,
    /// then stored from the last (through a stack buffer and a `write` it cost about 110 instructions a number).
    public mutating func write(decimal value: Int64) {
        if value < 0 { write(byte: 0x2D) }
        var rest = value.magnitude
        var digits = 1
        var probe = rest
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        precondition(count + digits <= capacity, "ByteWriter: room for \(capacity) bytes was reserved")
        var at = base + count + digits
        repeat {
            at -= 1
            at.storeBytes(of: UInt8(truncatingIfNeeded: 0x30 &+ rest % 10), as: UInt8.self)
            rest /= 10
        } while rest > 0
        count += digits
    }
}
