import CHTTPParser
import HTTPServer
import Shared
import Testing

/// `HTTPMethod` and `HTTPStatus` against http_parser's own tables, in process: a method numbered or spelled
/// differently from the parser would route or log requests under the wrong name.
@Suite struct VocabularyTests {
    @Test func everyParserMethodHasItsCaseAndSpelling() throws {
        // http_parser 2.9 numbers its methods 0 (DELETE) to 33 (SOURCE), with no gaps.
        #expect(HTTPMethod.allCases.count == Int(HTTP_SOURCE.rawValue) + 1)
        for raw in 0...UInt8(HTTP_SOURCE.rawValue) {
            let method = try #require(HTTPMethod(rawValue: raw), "parser method \(raw)")
            let parserName = String(cString: http_method_str(http_method(rawValue: UInt32(raw))))
            #expect(method.name == parserName)
            #expect(HTTPMethod(name: parserName) == method)
        }
        #expect(HTTPMethod(rawValue: UInt8(HTTP_SOURCE.rawValue) + 1) == nil)
        #expect(HTTPMethod(name: "get") == nil, "methods are case-sensitive")
    }

    @Test func namedStatusesHaveTheParsersReasonPhrases() {
        let named: [HTTPStatus] = [
            .continue, .ok, .created, .accepted, .noContent, .partialContent, .movedPermanently,
            .found, .notModified, .temporaryRedirect, .badRequest, .unauthorized, .forbidden,
            .notFound, .methodNotAllowed, .requestTimeout, .conflict, .lengthRequired,
            .preconditionFailed, .contentTooLarge, .uriTooLong, .rangeNotSatisfiable,
            .expectationFailed, .tooManyRequests, .requestHeaderFieldsTooLarge,
            .internalServerError, .notImplemented, .serviceUnavailable, .insufficientStorage
        ]
        for status in named {
            let parserPhrase = String(cString: http_status_str(http_status(rawValue: UInt32(status.code))))
            // RFC 9110 renamed 413 "Payload Too Large" (http_parser's spelling) to "Content Too Large".
            let expected = status == .contentTooLarge ? "Content Too Large" : parserPhrase
            #expect(status.reasonPhrase == expected, "\(status.code)")
        }
        #expect(Set(named).count == named.count, "one name per code")
        #expect(HTTPStatus(code: 418).reasonPhrase == "Client Error")
        #expect(HTTPStatus(code: 599).reasonPhrase == "Server Error")
        #expect(!HTTPStatus.notModified.allowsBody && !HTTPStatus.noContent.allowsBody && HTTPStatus.ok.allowsBody)
    }
}
