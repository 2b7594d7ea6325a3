import Foundation
import HTTPServer
import TestSupport
import Testing

extension HTTPServerSuite {
    /// `HTTPRequestAction.decideLater`: a handler that must ask another thread before it knows what to do with a
    /// request (a token lookup, a remote store) holds that request, and only that request, until it decides.
    @Suite(.serialized) struct Decisions {
        @Test func aLateDecisionAnswersAndTheConnectionGoesOnWithPipelinedRequests() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            // Both requests in one write: the second waits in the stash while the first is being decided.
            client.send("GET /decided HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
            let first = try client.readResponse(), second = try client.readResponse()
            #expect(first.status == 200 && first.text == "decided")
            #expect(second.status == 200 && second.text == "hello world")
            #expect(try client.request("GET", "/decided").text == "decided", "the connection stays usable")
        }

        @Test func noContinueBeforeTheDecisionAndARefusalSparesTheBody() throws {
            let events = Recorder<String>()
            let server = try TestServer(events: events)
            defer { server.stop() }
            let refused = try RawHTTPClient(port: server.port)
            refused.send(
                "PUT /decided?refuse HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n")
            let answer = try refused.readResponse()
            #expect(answer.status == 401, "the refusal comes first, not a 100 Continue: \(answer.statusLine)")
            #expect(refused.isClosedByPeer())

            let accepted = try RawHTTPClient(port: server.port)
            let length = 3 << 20
            accepted.send(
                "PUT /decided HTTP/1.1\r\nHost: a\r\nContent-Length: \(length)\r\nExpect: 100-continue\r\n\r\n")
            let interim = try accepted.readResponse()
            #expect(interim.status == 100)
            // Recorded before `decide`, so already there if the 100 waited for the decision, as it must.
            #expect(events.all.contains("decided PUT "), "the 100 Continue came after the decision")
            accepted.send(Streaming.pattern(length))
            let done = try accepted.readResponse()
            #expect(done.status == 200)
            #expect(done.text.hasPrefix("\(length) true"), "\(done.text)")
        }

        @Test func aBodySentBeforeTheDecisionWaitsAndIsReadWhole() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port, timeout: 10)
            let length = 2 << 20
            let response = try client.request("PUT", "/decided", body: Streaming.pattern(length))
            #expect(response.status == 200)
            #expect(response.text.hasPrefix("\(length) true"), "\(response.text)")
            #expect(try client.request("GET", "/hello").text == "hello world")
        }

        @Test func aPendingDecisionHoldsOnlyItsOwnRequest() throws {
            let events = Recorder<String>()
            let server = try TestServer(events: events, configure: { $0.threads = 1 })
            defer { server.stop() }
            let held = try RawHTTPClient(port: server.port, timeout: 10)
            held.send("GET /decided?gate HTTP/1.1\r\nHost: a\r\n\r\n")
            // The one loop thread serves others while the first request waits for its decision.
            for _ in 0..<5 {
                #expect(try RawHTTPClient(port: server.port).request("GET", "/hello").text == "hello world")
            }
            #expect(!events.all.contains("decided GET gate"))
            decisionGate.signal()
            #expect(try held.readResponse().text == "decided")
        }

        @Test func aDeciderDroppedUndecidedAnswers500() throws {
            let server = try TestServer()
            defer { server.stop() }
            let client = try RawHTTPClient(port: server.port)
            let response = try client.request("GET", "/decided?drop")
            #expect(response.status == 500)
            #expect(try client.request("GET", "/hello").status == 200)
        }
    }
}
