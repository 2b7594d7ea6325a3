import Foundation
import Testing

@testable import Shared

@Suite("SHA-512 and digests")
struct DigestTests {
    @Test("known answers from FIPS 180-2")
    func knownAnswers() {
        #expect(
            StreamingHasher.digest(of: "").hex
                == "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        )
        #expect(
            StreamingHasher.digest(of: "abc").hex
                == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        )
        let twoBlock =
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
        #expect(
            StreamingHasher.digest(of: twoBlock).hex
                == "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"
        )
    }

    @Test("streaming equals one-shot for random chunkings", arguments: [0, 1, 127, 128, 4096, 1_000_003])
    func streamingEqualsOneShot(size: Int) {
        var generator = SystemRandomNumberGenerator()
        let data = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let oneShot = StreamingHasher.digest(of: data)
        for _ in 0..<5 {
            let hasher = StreamingHasher()
            var offset = 0
            while offset < data.count {
                let step = Int.random(in: 1...max(1, min(data.count - offset, 70_000)))
                hasher.update(data[offset..<offset + step])
                offset += step
            }
            #expect(hasher.finish() == oneShot)
        }
    }

    @Test("file digest reads in blocks and matches")
    func fileDigest() throws {
        let path = "/tmp/tooltool-shared-\(UInt64.random(in: 0...UInt64.max))"
        defer { unlink(path) }
        var generator = SystemRandomNumberGenerator()
        let data = (0..<(3 << 20) + 17).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let fp = fopen(path, "w")
        _ = data.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, fp) }
        fclose(fp)
        let result = try FileDigest.compute(path: path)
        #expect(result.size == Int64(data.count))
        #expect(result.digest == StreamingHasher.digest(of: data))
        #expect(throws: DigestError.self) { try FileDigest.compute(path: path + "-missing") }
    }

    @Test("the parser accepts exactly 128 lowercase hex characters")
    func parserAccepts() throws {
        let hex = String(repeating: "0123456789abcdef", count: 8)
        #expect(try Digest(parsing: hex).hex == hex)
    }

    @Test("the parser says what was wrong")
    func parserRejections() {
        let good = String(repeating: "ab", count: 64)
        #expect(throws: DigestError.wrongLength(expected: 128, got: 127)) {
            try Digest(parsing: String(good.dropLast()))
        }
        #expect(throws: DigestError.wrongLength(expected: 128, got: 129)) { try Digest(parsing: good + "a") }
        #expect(throws: DigestError.wrongLength(expected: 128, got: 0)) { try Digest(parsing: "") }
        #expect(throws: DigestError.invalidCharacter(index: 0, character: "A")) {
            try Digest(parsing: "A" + good.dropFirst())
        }
        #expect(throws: DigestError.invalidCharacter(index: 5, character: "g")) {
            try Digest(parsing: "ababa" + "g" + good.dropFirst(6))
        }
        #expect(throws: DigestError.invalidCharacter(index: 127, character: "/")) {
            try Digest(parsing: good.dropLast() + "/")
        }
        #expect(
            DigestError.wrongLength(expected: 128, got: 127).description
                == "digest must be 128 lowercase hex characters, got 127")
        #expect(throws: DigestError.unsupportedAlgorithm("md5")) { try HashAlgorithm(name: "md5") }
        // A multi-byte character must not sneak a wrong length past the check.
        #expect(throws: DigestError.self) { try Digest(parsing: String(good.dropLast(2)) + "é") }
    }

    @Test("the eight-at-a-time hex check agrees with the byte check for every byte value at every position")
    func wordHexCheckAgreesWithByteCheck() {
        for length in [0, 7, 8, 9, 16, 128] {
            for position in 0..<max(length, 1) {
                for value in 0...255 {
                    var bytes = [UInt8](repeating: UInt8(ascii: "7"), count: length)
                    if length > 0 { bytes[position] = UInt8(value) }
                    let expected = bytes.allSatisfy(Hex.isLowercaseHexDigit)
                    let actual = bytes.withUnsafeBufferPointer { Hex.allLowercaseHexDigits($0) }
                    if actual != expected {
                        Issue.record("length \(length), byte \(value) at \(position): \(actual), expected \(expected)")
                        return
                    }
                }
            }
        }
        // Neighbours that could carry into each other: a byte of 0xff after every hex digit.
        for digit in Array("0123456789abcdef".utf8) {
            let bytes: [UInt8] = [digit, 0xff, digit, digit, digit, digit, digit, digit]
            #expect(!bytes.withUnsafeBufferPointer { Hex.allLowercaseHexDigits($0) })
        }
    }

    @Test("hex round trip")
    func hexRoundTrip() {
        let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xfe, 0xff]
        #expect(Hex.encode(bytes) == "00017f80feff")
        #expect(Hex.decode("00017f80feff") == bytes)
        #expect(Hex.decode("0") == nil)
        #expect(Hex.decode("zz") == nil)
    }

    @Test("HMAC-SHA256 RFC 4231 case 2 and constant-time compare")
    func hmac() {
        let mac = Crypto.hmacSHA256(key: Array("Jefe".utf8), message: "what do ya want for nothing?")
        #expect(Hex.encode(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(Hex.encode(Crypto.sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Crypto.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!Crypto.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!Crypto.constantTimeEqual([1, 2], [1, 2, 3]))
        #expect(Crypto.randomBytes(32) != Crypto.randomBytes(32))
    }
}
