import BrainApplication
import Foundation
import BrainDomain
import BrainInfrastructure
import NIOCore
import NIOHTTP1
import Testing
@testable import BrainAPI

/// Each data-plane stage on its own, without sockets.
@Suite struct PipelineStageTests {
    let instance = UpstreamInstance(scheme: .http, host: "10.0.0.7", port: 8008)

    @Test func planeSelectorSendsReservedSegmentsToTheControlPlane() {
        for uri in ["/", "/health", "/health/ready", "/api/brain/services", "/metrics?x", "/.well-known/jwks.json", "/openapi.json", "/docs/"] {
            #expect(PlaneSelector.plane(forURI: uri) == .control, "\(uri)")
        }
        for uri in ["/ai-agents/x", "/healthy/x", "/apis", "*", "http://h/x", "//h/x"] {
            #expect(PlaneSelector.plane(forURI: uri) == .data, "\(uri)")
        }
    }

    /// A new control-plane prefix can never be proxied by accident: every path the control plane
    /// serves starts with a reserved segment, the selector sends each reserved segment to the
    /// control plane, and no service may be named after one.
    @Test func theReservedSegmentsAreExactlyTheControlPlanesPaths() throws {
        let document = try #require(JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
        let documented = try #require(document["paths"] as? [String: Any]).keys
        let served = Array(documented) + AdminOperation.allCases.map(\.path) + ["/dashboard", "/"]
        var firstSegments = Set<String>()
        for path in served {
            #expect(PlaneSelector.plane(forURI: path) == .control, "\(path) would be proxied")
            if let first = path.split(separator: "/").first { firstSegments.insert(String(first)) }
        }
        #expect(firstSegments.isSubset(of: PlaneSelector.reservedSegments))
        for segment in PlaneSelector.reservedSegments {
            #expect(PlaneSelector.plane(forURI: "/\(segment)/anything") == .control, "\(segment)")
            #expect(throws: ServiceName.ValidationError.self) { try ServiceName(segment) }
        }
    }

    @Test func headerRolesAreCaseInsensitive() {
        #expect(HeaderRole.of("Connection") == .hopByHop)
        #expect(HeaderRole.of("TE") == .hopByHop)
        #expect(HeaderRole.of("Transfer-Encoding") == .transferEncoding)
        #expect(HeaderRole.of("X-TENANT-ID") == .gatewayOwned)
        #expect(HeaderRole.of("x-forwarded-for") == .forwardedFor)
        #expect(HeaderRole.of("X-Request-Id") == .requestID)
        #expect(HeaderRole.of("Content-Type") == .ordinary)
        #expect(HeaderRole.of("Set-Cookie") == .ordinary)
    }

    /// A client request carrying every kind of field the upstream rewrite treats specially.
    static let clientRequest = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/svc/a?b", headers: [
        "Host": "gw.example", "Connection": "keep-alive, X-Secret", "X-Secret": "s", "Transfer-Encoding": "chunked",
        "X-Forwarded-For": "1.1.1.1", "x-tenant-id": "forged", "X-Brain-Token": "forged", "Accept": "*/*",
    ])

    @Test func upstreamHeadersAreRewritten() {
        let client = Self.clientRequest
        let head = UpstreamRequestHeaders().build(from: client, uri: "/base/a?b", instance: instance, requestID: "rid", clientAddress: "2.2.2.2")
        #expect(head.uri == "/base/a?b")
        #expect(head.method == .POST)
        #expect(head.headers["Host"] == ["10.0.0.7:8008"])
        #expect(head.headers["X-Forwarded-For"] == ["1.1.1.1, 2.2.2.2"])
        #expect(head.headers["X-Forwarded-Host"] == ["gw.example"])
        #expect(head.headers["X-Forwarded-Proto"] == ["http"])
        #expect(head.headers["X-Request-ID"] == ["rid"])
        #expect(head.headers["Transfer-Encoding"] == ["chunked"])
        #expect(head.headers["Accept"] == ["*/*"])
        #expect(head.headers["X-Secret"].isEmpty && head.headers["Connection"].isEmpty && head.headers["x-tenant-id"].isEmpty)
        #expect(head.headers["X-Brain-Token"].isEmpty)
    }

    @Test func upstreamHeadsWrittenAsBytesMatchTheRewrite() throws {
        let client = Self.clientRequest
        var bytes = ByteBuffer()
        let chunked = UpstreamRequestHeaders().write(
            from: client, uri: "/base/a?b", instance: instance, requestID: "rid", clientAddress: "2.2.2.2",
            tenant: try TenantID("11111111-1111-4111-8111-111111111111"), proofToken: "proof", traceparent: "00-tp", extra: [("If-None-Match", "\"e\"")], into: &bytes)
        #expect(chunked)
        #expect(String(buffer: bytes) == "POST /base/a?b HTTP/1.1\r\nAccept: */*\r\nHost: 10.0.0.7:8008\r\n"
            + "X-Forwarded-For: 1.1.1.1, 2.2.2.2\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: gw.example\r\nX-Request-ID: rid\r\n"
            + "X-Tenant-ID: 11111111-1111-4111-8111-111111111111\r\nX-Brain-Token: proof\r\ntraceparent: 00-tp\r\nIf-None-Match: \"e\"\r\nTransfer-Encoding: chunked\r\n\r\n")
        var plain = ByteBuffer()
        let get = HTTPRequestHead(version: .http1_0, method: .GET, uri: "/svc/x", headers: ["Content-Length": "0"])
        #expect(!UpstreamRequestHeaders().write(from: get, uri: "/x", instance: instance, requestID: "r", clientAddress: nil, into: &plain))
        #expect(String(buffer: plain) == "GET /x HTTP/1.1\r\nContent-Length: 0\r\nHost: 10.0.0.7:8008\r\nX-Forwarded-Proto: http\r\nX-Request-ID: r\r\n\r\n")
    }

    @Test func responseHeadersDropHopByHopAndSetTheRequestID() {
        var headers = HTTPHeaders()
        headers.add(name: "Set-Cookie", value: "a=1")
        headers.add(name: "Set-Cookie", value: "b=2")
        headers.add(name: "Keep-Alive", value: "timeout=5")
        headers.add(name: "X-Request-ID", value: "upstream-id")
        let upstream = HTTPResponseHead(version: .http1_1, status: .created, headers: headers)
        let head = ResponseHeaders().build(from: upstream, clientVersion: .http1_0, requestID: "rid", keepAlive: false)
        #expect(head.status == .created && head.version == .http1_0)
        #expect(head.headers["Set-Cookie"] == ["a=1", "b=2"])
        #expect(head.headers["Keep-Alive"].isEmpty)
        #expect(head.headers["X-Request-ID"] == ["rid"])
        #expect(head.headers["Connection"] == ["close"])
    }

    @Test func responseHeadsWrittenAsBytesFrameTheBodyLikeTheEncoder() {
        func write(_ status: HTTPResponseStatus, _ fields: [(String, String)], version: HTTPVersion = .http1_1, keepAlive: Bool = true,
                   isHead: Bool = false, rateLimit: RateLimiting.Verdict? = nil) -> (String, ResponseHeaders.Framing) {
            var buffer = ByteBuffer()
            let framing = ResponseHeaders().write(
                from: HTTPResponseHead(version: .http1_1, status: status, headers: HTTPHeaders(fields)), clientVersion: version,
                requestID: "rid", keepAlive: keepAlive, isHeadRequest: isHead, rateLimit: rateLimit, cacheStatus: nil, into: &buffer)
            return (String(buffer: buffer), framing)
        }
        let verdict = RateLimiting.Verdict(allowed: true, limit: 100, remaining: 0, resetSeconds: 60, retryAfterSeconds: 1)
        let (text, framing) = write(.ok, [("Content-Length", "2"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("Connection", "x-secret"),
                                          ("X-Secret", "s"), ("Transfer-Encoding", "chunked"), ("X-Request-ID", "up")], rateLimit: verdict)
        #expect(framing == .contentLength)
        #expect(text == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Request-ID: rid\r\n"
            + "RateLimit-Limit: 100\r\nRateLimit-Remaining: 0\r\nRateLimit-Reset: 60\r\n\r\n")
        // A field named by a later `Connection` field is dropped too; `keep-alive, close` names none.
        #expect(write(.ok, [("X-Secret", "s"), ("Connection", "Keep-Alive, close"), ("Content-Length", "2"), ("Connection", "x-secret")])
            == ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Request-ID: rid\r\n\r\n", .contentLength))
        #expect(write(.ok, [("Connection", "Keep-Alive, close"), ("Content-Length", "2")])
            == ("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Request-ID: rid\r\n\r\n", .contentLength))
        // No length: HTTP/1.1 re-chunks, HTTP/1.0 ends by closing.
        #expect(write(.ok, []) == ("HTTP/1.1 200 OK\r\nX-Request-ID: rid\r\nTransfer-Encoding: chunked\r\n\r\n", .chunked))
        #expect(write(.ok, [], version: .http1_0) == ("HTTP/1.0 200 OK\r\nX-Request-ID: rid\r\nConnection: close\r\n\r\n", .untilClose))
        // Body-less answers: no body, and a 304's or 204's length fields go.
        #expect(write(.notModified, [("Content-Length", "9"), ("ETag", "\"e\"")], keepAlive: false)
            == ("HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\nX-Request-ID: rid\r\nConnection: close\r\n\r\n", .none))
        #expect(write(.ok, [("Content-Length", "9")], isHead: true).1 == .none)
        #expect(write(.ok, [], isHead: true).1 == .none)
        var line = ByteBuffer()
        for size in [1, 15, 16, 255, 4096, 1 << 20] { ChunkedFraming.writeSizeLine(size, into: &line) }
        #expect(String(buffer: line) == "1\r\nf\r\n10\r\nff\r\n1000\r\n100000\r\n")
        var digits = ByteBuffer()
        for n in [0, 7, 10, 999_999_999, Int(Int32.max)] { digits.writeDecimal(n); digits.writeString(",") }
        #expect(String(buffer: digits) == "0,7,10,999999999,2147483647,")
    }

    @Test func retryPolicyFollowsTheContract() {
        let policy = RetryPolicy()
        #expect(policy.isRetryable(method: .GET, headers: HTTPHeaders()))
        #expect(policy.isRetryable(method: .PUT, headers: HTTPHeaders()))
        #expect(!policy.isRetryable(method: .POST, headers: HTTPHeaders()))
        #expect(!policy.isRetryable(method: .PATCH, headers: HTTPHeaders()))
        #expect(policy.isRetryable(method: .POST, headers: HTTPHeaders([("Idempotency-Key", "k")])))
        #expect(policy.shouldRetry(failure: .connectFailed, attempt: 1, maxRetries: 1, retryableRequest: true, responseStarted: false, bodyReplayable: true))
        #expect(!policy.shouldRetry(failure: .connectFailed, attempt: 2, maxRetries: 1, retryableRequest: true, responseStarted: false, bodyReplayable: true))
        #expect(!policy.shouldRetry(failure: .timedOut, attempt: 1, maxRetries: 1, retryableRequest: true, responseStarted: false, bodyReplayable: true))
        #expect(!policy.shouldRetry(failure: .connectionClosed, attempt: 1, maxRetries: 1, retryableRequest: true, responseStarted: true, bodyReplayable: true))
        #expect(!policy.shouldRetry(failure: .connectionClosed, attempt: 1, maxRetries: 1, retryableRequest: true, responseStarted: false, bodyReplayable: false))
    }

    @Test func bodyLimitChecksDeclaredAndStreamedSizes() {
        let limit = BodyLimit(maxBytes: 10)
        #expect(limit.check(HTTPHeaders([("Content-Length", "10")])) == nil)
        #expect(limit.check(HTTPHeaders([("Content-Length", "11")]))?.status == .payloadTooLarge)
        #expect(limit.allows(received: 10) && !limit.allows(received: 11))
    }

    @Test func requestIdentifierKeepsPlainTokensOnly() {
        var identifier = RequestIdentifier()
        #expect(identifier.identify(HTTPHeaders([("X-Request-ID", "abc-123.x:y_z")])) == "abc-123.x:y_z")
        let generated = identifier.identify(HTTPHeaders([("X-Request-ID", "has space")]))
        #expect(generated.count == 32 && generated.allSatisfy { $0.isHexDigit })
        #expect(identifier.generate() != identifier.generate())
    }

    @Test func errorBodiesAreEscapedJSON() {
        let error = GatewayError(status: .badRequest, code: "bad_request", detail: "quote \" and \n newline")
        let body = error.body(requestID: "r1", allocator: ByteBufferAllocator())
        #expect(String(buffer: body) == #"{"error":"bad_request","detail":"quote \" and \n newline","request_id":"r1"}"#)
    }
}

/// The breakers' view of active health verdicts, without sockets.
@Suite struct ServiceBreakersProbeTests {
    static func breakers(instances: Int = 3) throws -> ServiceBreakers {
        let service = try ServiceRoute(
            name: ServiceName("svc"), instances: (0..<instances).map { UpstreamInstance(scheme: .http, host: "127.0.0.1", port: 9000 + $0) },
            basePath: .root, circuitBreaker: CircuitBreakerThresholds(failureThreshold: 1000, openSeconds: 60))
        let board = BreakerBoard(
            health: HealthBoard(events: InMemoryEventLog(), now: { 0 }), events: InMemoryEventLog(), counters: TrafficCounters(),
            probeIntervalSeconds: 7, now: { 0 })
        return board.breakers(for: service)
    }

    @Test func aProbedOutInstanceIsNeverChosenAndAllOutMeans503UntilTheNextProbe() throws {
        let breakers = try Self.breakers()
        breakers.healthProbe(instance: 1, down: true, succeeded: false, now: 10)
        #expect(!breakers.currentSignal.calm)
        for _ in 0..<20 {
            let choice = breakers.choose(now: 10) { admitted in (0..<3).first { $0 == 1 && admitted($0) } ?? (admitted(0) ? 0 : nil) }
            #expect(choice == .instance(0, probe: false))
        }
        breakers.healthProbe(instance: 0, down: true, succeeded: false, now: 10)
        breakers.healthProbe(instance: 2, down: true, succeeded: false, now: 10)
        let none = breakers.choose(now: 10) { admitted in (0..<3).first(where: admitted) }
        #expect(none == .noneAdmitted(retryAfterSeconds: 7))
    }

    @Test func readmissionsAreSignalledOncePerInstance() throws {
        let breakers = try Self.breakers()
        let seen = breakers.currentSignal.readmissions
        breakers.healthProbe(instance: 2, down: true, succeeded: false, now: 1)
        #expect(breakers.currentSignal.readmissions == seen)
        breakers.healthProbe(instance: 2, down: false, succeeded: true, now: 2)
        #expect(breakers.currentSignal.readmissions == seen + 1)
        #expect(breakers.currentSignal.calm)
        #expect(breakers.readmitted(since: seen) == [2])
        #expect(breakers.readmitted(since: seen + 1).isEmpty)
        // A success on an instance that was never out readmits nothing.
        breakers.healthProbe(instance: 0, down: false, succeeded: true, now: 3)
        #expect(breakers.currentSignal.readmissions == seen + 1)
    }
}
