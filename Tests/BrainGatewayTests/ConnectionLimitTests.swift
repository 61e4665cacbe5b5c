import Foundation
import Testing

/// Limits on the client connection: header size and count, header deadline, idle keep-alive.
@Suite struct ConnectionLimitTests {
    @Test func oversizedHeadersAre431() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            let big = String(repeating: "a", count: 40 * 1024)
            let r = try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nX-Big: \(big)\r\n\r\n")
            #expect(r.status == 431)
            #expect(r.text.contains("headers_too_large"))
            #expect(backend.requests.isEmpty)
        }
    }

    @Test func tooManyHeaderFieldsAre431() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            let fields = (0..<150).map { "X-F\($0): v\r\n" }.joined()
            let r = try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\n\(fields)\r\n")
            #expect(r.status == 431)
            #expect(backend.requests.isEmpty)
        }
    }

    @Test func malformedRequestsAre400AndClosed() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            let r = try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello")
            #expect(r.status == 400)
            #expect(r.header("connection") == "close")
            #expect(backend.requests.isEmpty)
        }
    }

    @Test func aRequestHeadThatTricklesInIsTimedOut() async throws {
        try await withGateway(services: { oneService($0) }, configure: { $0.limits.headerTimeoutSeconds = 1 }) { gateway, backend in
            let started = ContinuousClock.now
            // Half a request head, then silence: the gateway answers 408 and closes. (The 408
            // itself proves the deadline fired; the loose bound leaves room for a loaded run.)
            let bytes = try await gateway.exchange("GET /svc/x HTTP/1.1\r\nHost: x\r\nX-Slow: ", timeout: .seconds(20))
            let r = try RawHTTP.parse(bytes)
            #expect(r.status == 408)
            #expect(ContinuousClock.now - started < .seconds(12))
            #expect(backend.requests.isEmpty)
        }
    }

    @Test func idleKeepAliveConnectionsAreClosed() async throws {
        // 3 s, not 1: the idle deadline also runs from the accept to the first byte, and on a
        // loaded parallel run the client's connect and write can be a second apart.
        try await withGateway(services: { oneService($0) }, configure: { $0.limits.idleTimeoutSeconds = 3 }) { gateway, _ in
            let started = ContinuousClock.now
            // One complete keep-alive request, then nothing: the server closes after ~3 s. (A
            // server that never closed would run into the 30 s client timeout; the loose upper
            // bound leaves room for a loaded parallel test run.)
            let bytes = try await gateway.exchange("GET /svc/x HTTP/1.1\r\nHost: x\r\n\r\n", timeout: .seconds(30))
            let r = try RawHTTP.parse(bytes)
            #expect(r.status == 200)
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(2900) && elapsed < .seconds(20))
        }
    }

    @Test func aSlowBackendDoesNotTripTheIdleTimeout() async throws {
        try await withGateway(services: { oneService($0) }, configure: { $0.limits.idleTimeoutSeconds = 1 }) { gateway, _ in
            let r = try await gateway.send("GET /svc/slow/1800 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(r.status == 200)
        }
    }
}
