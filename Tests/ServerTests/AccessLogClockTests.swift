import Foundation
import HTTPServer
import Testing

@testable import ServerApp

/// The access log's time stamps, made once per second and copied, against Foundation's ISO 8601 formatter.
@Suite struct AccessLogClockTests {
    @Test func stampsMatchISO8601AcrossSecondsDaysAndYears() {
        let clock = AccessLogClock()
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        format.timeZone = TimeZone(identifier: "UTC")
        // Steps of 0.375 s (exact in binary, so no millisecond is a rounding question) from just before a new year,
        // so the cached second is reused and replaced many times; then far-apart instants around a leap day.
        var instants = (0..<2000).map { 1_767_225_590.0 + Double($0) * 0.375 }
        instants += [0, 951_782_399.5, 951_782_400.25, 951_868_800.125, 4_102_444_799.875, 1_700_000_000.0]
        var storage = [UInt8](repeating: 0, count: 64)
        for instant in instants {
            let written = storage.withUnsafeMutableBytes { buffer in
                var line = ByteWriter(base: buffer.baseAddress!, capacity: buffer.count)
                clock.write(Date(timeIntervalSince1970: instant), to: &line)
                return line.count
            }
            let text = String(decoding: storage[..<written], as: UTF8.self)
            #expect(text == format.string(from: Date(timeIntervalSince1970: instant)), "\(instant)")
        }
    }
}
