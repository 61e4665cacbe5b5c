import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import Testing

/// Timeouts, refused and reset connections, retries, streaming, client disconnects.
@Suite struct UpstreamFailureTests {
    static func json(_ r: RawResponse) -> [String: String] {
        (try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: String]) ?? [:]
    }

    @Test func connectFailureIs502() async throws {
        let dead = RefusingPort()
        let gateway = try await GatewayHarness.start(yaml: "services:\n  - {name: gone, url: http://127.0.0.1:\(dead.port)}\n")
        defer { Task { await gateway.stop() } }
        let r = try await gateway.send("GET /gone/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(r.status == 502)
        #expect(Self.json(r)["error"] == "bad_gateway")
        #expect(Self.json(r)["request_id"] == r.header("x-request-id"))
        await gateway.stop()
        withExtendedLifetime(dead) {}
    }

    @Test func resetBeforeResponseIs502() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            let r = try await gateway.send("POST /svc/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            #expect(r.status == 502)
            #expect(Self.json(r)["error"] == "bad_gateway")
            // POST is never retried.
            #expect(backend.requests.count == 1)
        }
    }

    @Test func idempotentRequestsAreRetriedOnceOnAnotherInstance() async throws {
        let good = try await TestBackend()
        let dead = RefusingPort()
        // Round robin and a breaker that never opens keep sending requests to the dead
        // instance (the defaults would learn to avoid it; other tests cover that).
        let yaml = """
            services:
              - name: svc
                instances: [http://127.0.0.1:\(dead.port), \(good.url)]
                load_balancing: round_robin
                circuit_breaker: {failure_threshold: 1000}
            """
        let gateway = try await GatewayHarness.start(yaml: yaml)
        for _ in 0..<6 {
            let r = try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(r.status == 200)
        }
        #expect(good.requests.count == 6)
        // POST is not retried: some land on the dead instance and fail.
        var statuses: [Int] = []
        for _ in 0..<6 {
            statuses.append(try await gateway.send("POST /svc/x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").status)
        }
        #expect(statuses.contains(502))
        // ...unless it carries an Idempotency-Key.
        for _ in 0..<4 {
            let r = try await gateway.send("POST /svc/x HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
            #expect(r.status == 200)
        }
        await gateway.stop()
        await good.shutdown()
        withExtendedLifetime(dead) {}
    }

    @Test func retriedRequestResendsItsBody() async throws {
        let good = try await TestBackend()
        let dead = RefusingPort()
        let gateway = try await GatewayHarness.start(yaml: "services:\n  - name: svc\n    instances: [http://127.0.0.1:\(dead.port), \(good.url)]\n")
        for _ in 0..<4 {
            let r = try await gateway.send("PUT /svc/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world")
            #expect(r.status == 200)
            #expect(r.text == "hello world")
        }
        await gateway.stop()
        await good.shutdown()
        withExtendedLifetime(dead) {}
    }

    @Test func timeoutIs504AndTheUpstreamRequestIsAbandoned() async throws {
        try await withGateway(services: { b in
            "services:\n  - {name: svc, url: \(b.url), base_path: /base, timeout_ms: 300}\n"
        }) { gateway, backend in
            let started = ContinuousClock.now
            let r = try await gateway.send("GET /svc/hang HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let elapsed = ContinuousClock.now - started
            #expect(r.status == 504)
            #expect(Self.json(r)["error"] == "gateway_timeout")
            // The 504 proves the 300 ms timeout fired (the backend never answers); the bound only
            // rules out some other, longer wait (30 s default) on a loaded machine.
            #expect(elapsed < .seconds(10))
            // A timeout is not retried.
            #expect(backend.requests.count == 1)
            try await Task.sleep(for: .milliseconds(200))
            #expect(backend.abandonedRequests == 1)
        }
    }

    @Test func everyRequestOfAKeepAliveConnectionGetsItsOwnTimeout() async throws {
        // One timer per connection watches the deadlines: after answered requests (which leave an
        // earlier timer armed), a later request that hangs still times out on its own deadline.
        try await withGateway(services: { b in
            "services:\n  - {name: svc, url: \(b.url), base_path: /base, timeout_ms: 400}\n"
        }) { gateway, _ in
            let request = "GET /svc/slow/250 HTTP/1.1\r\nHost: x\r\n\r\nGET /svc/slow/250 HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /svc/hang HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            let text = String(decoding: try await gateway.exchange(request, timeout: .seconds(10)), as: UTF8.self)
            #expect(text.components(separatedBy: "HTTP/1.1 200 OK").count == 3, "\(text)")
            #expect(text.contains("HTTP/1.1 504 Gateway Timeout") && text.contains("gateway_timeout"), "\(text)")
        }
    }

    @Test func clientDisconnectCancelsTheUpstreamRequest() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            // Send a request to an endpoint that never answers, then give up after 300 ms.
            _ = try? await gateway.exchange("GET /svc/hang HTTP/1.1\r\nHost: x\r\n\r\n", timeout: .milliseconds(300))
            var waited = 0
            while backend.abandonedRequests == 0 && waited < 50 {
                try await Task.sleep(for: .milliseconds(100))
                waited += 1
            }
            #expect(backend.abandonedRequests == 1)
        }
    }

    @Test func chunkedResponseStreamsBeforeTheBackendFinishes() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            var request = authorized(HTTPClientRequest(url: gateway.base + "/svc/chunked-wait"))
            request.method = .GET
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            #expect(response.status == .ok)
            var iterator = response.body.makeAsyncIterator()
            let first = try await iterator.next()
            #expect(first.map { String(buffer: $0) } == "first;")
            // Only now does the backend send its last chunk.
            backend.releaseChunk()
            var rest = ""
            while let chunk = try await iterator.next() { rest += String(buffer: chunk) }
            #expect(rest == "last")
        }
    }

    @Test func responseCutMidBodyClosesTheClientConnection() async throws {
        // A backend that promises 1000 bytes and closes after 10.
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.pipeline.addHandler(ShortBodyHandler())
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = server.localAddress!.port!
        let gateway = try await GatewayHarness.start(yaml: "services:\n  - {name: short, url: http://127.0.0.1:\(port)}\n")
        let bytes = try await gateway.exchange("GET /short/x HTTP/1.1\r\nHost: x\r\n\r\n", timeout: .seconds(5))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200 OK"))
        #expect(text.hasSuffix("0123456789"))
        await gateway.stop()
        try await server.close()
    }
}

/// Answers every request with `Content-Length: 1000`, sends 10 bytes and closes.
private final class ShortBodyHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let response = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789"
        context.writeAndFlush(NIOAny(ByteBuffer(string: response))).whenComplete { _ in context.close(promise: nil) }
    }
}
