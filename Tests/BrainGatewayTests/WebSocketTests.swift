import Foundation
import Testing

/// WebSocket upgrades through the data plane (frames relayed unchanged, checks at the upgrade)
/// and the gateway's own `/ws/events`.
@Suite struct WebSocketTests {
    static let sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="
    /// RFC 6455 §1.3's worked example.
    static let sampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    static func withEchoGateway(
        extra: String = "", _ body: (GatewayHarness, WebSocketEchoBackend) async throws -> Void
    ) async throws {
        let backend = try await WebSocketEchoBackend()
        let gateway = try await GatewayHarness.start(yaml: """
            services:
              - name: chat
                url: \(backend.url)
                base_path: /socket
            \(extra)
            """)
        try await withTeardown {
            try await body(gateway, backend)
        } teardown: {
            await gateway.stop()
            await backend.shutdown()
        }
    }

    static func bearer(_ token: String = TestTokens.user) -> [String] { ["Authorization: Bearer \(token)"] }

    @Test func framesOfEveryKindPassBothWaysUnchanged() async throws {
        try await Self.withEchoGateway { gateway, backend in
            let client = try await WebSocketTestClient(port: gateway.port, path: "/chat/room/1?x=1", headers: Self.bearer(), key: Self.sampleKey)
            #expect(client.status == 101)
            #expect(client.header("Sec-WebSocket-Accept") == Self.sampleAccept)
            #expect(client.header("Upgrade")?.lowercased() == "websocket")
            #expect(client.header("X-Request-ID")?.isEmpty == false)

            try await client.send(text: "hello, gateway")
            #expect(try await client.receive() == .init(opcode: 1, payload: Array("hello, gateway".utf8)))
            // Binary frames with 7-, 16- and 64-bit lengths, every byte value.
            for size in [0, 125, 300, 70_000] {
                let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
                try await client.send(opcode: 2, payload)
                let echoed = try await client.receive()
                #expect(echoed.opcode == 2 && echoed.payload == payload, "binary frame of \(size) bytes")
            }
            try await client.send(opcode: 9, Array("are you there".utf8))
            #expect(try await client.receive() == .init(opcode: 10, payload: Array("are you there".utf8)))
            // The client's close code comes back from the backend, then the connection ends.
            try await client.close(code: 4001)
            let close = try await client.receive()
            #expect(close.opcode == 8 && close.closeCode == 4001)
            #expect(await client.closedByServer())

            // The backend saw the gateway's upgrade request: its path, the tenant it fixed, the proof.
            let handshake = try #require(backend.handshakes.first)
            #expect(handshake.uri == "/socket/room/1?x=1")
            #expect(handshake.headers.first(name: "X-Tenant-ID") == TestTokens.tenantA)
            #expect(handshake.headers.first(name: "X-Brain-Token")?.isEmpty == false)
            #expect(handshake.headers.first(name: "traceparent")?.hasPrefix("00-") == true)
            #expect(handshake.headers.first(name: "Sec-WebSocket-Key") == Self.sampleKey)
        }
    }

    @Test func aClosedTunnelIsLoggedWithItsDurationAndBytes() async throws {
        let backend = try await WebSocketEchoBackend()
        let recorder = LogRecorder()
        let gateway = try await GatewayHarness.start(
            yaml: "services:\n  - {name: chat, url: \(backend.url)}\n", logger: recorder.logger(level: .info))
        try await withTeardown {
            let client = try await WebSocketTestClient(
                port: gateway.port, path: "/chat/x", headers: Self.bearer() + ["X-Request-ID: tunnel-log-1"])
            #expect(client.status == 101)
            try await client.send(opcode: 2, Array(repeating: 7, count: 1000))  // 1,008 bytes masked
            #expect(try await client.receive().payload.count == 1000)           // 1,004 bytes back
            await client.disconnect()
            // The line comes when the client's side of the tunnel has closed.
            var closed: LogRecorder.Record?
            for _ in 0..<100 where closed == nil {
                closed = recorder.all.first { $0.message == "tunnel closed" && $0.metadata["request_id"] == "tunnel-log-1" }
                if closed == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            let line = try #require(closed)
            #expect(line.metadata["service"] == "chat")
            #expect(line.metadata["bytes_in"] == "1008")
            #expect(line.metadata["bytes_out"] == "1004")
            #expect(line.metadata["duration_ms"] != nil)
            // The request itself was logged once, at its 101.
            #expect(recorder.all.filter { $0.message == "request" && $0.metadata["request_id"] == "tunnel-log-1" }.map { $0.metadata["status"] } == ["101"])
        } teardown: {
            await gateway.stop()
            await backend.shutdown()
        }
    }

    @Test func theBackendsCloseCodeReachesTheClient() async throws {
        try await Self.withEchoGateway { gateway, _ in
            let client = try await WebSocketTestClient(port: gateway.port, path: "/chat/x", headers: Self.bearer())
            #expect(client.status == 101)
            try await client.send(text: "close:4002")
            let close = try await client.receive()
            #expect(close.opcode == 8 && close.closeCode == 4002)
            #expect(await client.closedByServer())
        }
    }

    @Test func manyTunnelsAtOnceKeepTheirOwnFrames() async throws {
        try await Self.withEchoGateway { gateway, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<20 {
                    group.addTask {
                        let client = try await WebSocketTestClient(port: gateway.port, path: "/chat/\(n)", headers: Self.bearer())
                        #expect(client.status == 101)
                        for i in 0..<20 {
                            try await client.send(text: "client \(n) message \(i)")
                            let frame = try await client.receive()
                            #expect(frame.text == "client \(n) message \(i)")
                        }
                        try await client.close(code: 1000)
                        #expect(try await client.receive().closeCode == 1000)
                        await client.disconnect()
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func tokenRouteAndRateLimitAreCheckedAtTheUpgrade() async throws {
        try await Self.withEchoGateway(extra: """
                rate_limit: {requests: 2, window_seconds: 60}
                routes:
                  - {path: "/room/{id}", methods: [GET]}
                  - {path: "/ops/{id}", methods: [GET], roles: [ops]}
            """
        ) { gateway, backend in
            let noToken = try await WebSocketTestClient(port: gateway.port, path: "/chat/room/1")
            #expect(noToken.status == 401)
            #expect(await noToken.remainingText().contains(#""error":"unauthenticated""#))
            let forbidden = try await WebSocketTestClient(port: gateway.port, path: "/chat/ops/1", headers: Self.bearer())
            #expect(forbidden.status == 403)
            let unknownRoute = try await WebSocketTestClient(port: gateway.port, path: "/chat/elsewhere", headers: Self.bearer())
            #expect(unknownRoute.status == 404)
            let unknownService = try await WebSocketTestClient(port: gateway.port, path: "/nope/room/1", headers: Self.bearer())
            #expect(unknownService.status == 404)
            #expect(backend.handshakes.isEmpty, "nothing refused reached the backend")

            // The rate limit counts upgrades like any request: two pass, the third is refused.
            for _ in 0..<2 {
                let ok = try await WebSocketTestClient(port: gateway.port, path: "/chat/room/1", headers: Self.bearer())
                #expect(ok.status == 101)
                #expect(ok.header("RateLimit-Limit") == "2")
                await ok.disconnect()
            }
            let limited = try await WebSocketTestClient(port: gateway.port, path: "/chat/room/1", headers: Self.bearer())
            #expect(limited.status == 429)
            #expect(limited.header("Retry-After") != nil)
            #expect(await limited.remainingText().contains(#""error":"rate_limited""#))
            #expect(backend.handshakes.count == 2)
        }
    }

    @Test func aRefusedUpgradeIsRelayedAndADeadBackendIsA502() async throws {
        try await Self.withEchoGateway { gateway, _ in
            let refused = try await WebSocketTestClient(port: gateway.port, path: "/chat/refuse", headers: Self.bearer())
            #expect(refused.status == 403)
            #expect(await refused.remainingText().contains(#"{"refused":true}"#))
        }
        let gateway = try await GatewayHarness.start(yaml: "services:\n  - {name: chat, url: \"http://127.0.0.1:1\"}\n")
        let dead = try await WebSocketTestClient(port: gateway.port, path: "/chat/x", headers: Self.bearer())
        #expect(dead.status == 502)
        #expect(await dead.remainingText().contains(#""error":"bad_gateway""#))
        await gateway.stop()
    }

    @Test func wsEventsPushesDomainEventsLive() async throws {
        try await withGateway(services: { b in "services:\n  - {name: svc, url: \(b.url)}\n" }) { gateway, backend in
            // Not for a user, and only as a WebSocket.
            let user = try await WebSocketTestClient(port: gateway.port, path: "/ws/events", headers: Self.bearer())
            #expect(user.status == 403)
            let plain = try await gateway.send("GET /ws/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", token: TestTokens.admin)
            #expect(plain.status == 426)

            // A browser passes the token in the query.
            let socket = try await WebSocketTestClient(port: gateway.port, path: "/ws/events?access_token=\(TestTokens.admin)", key: Self.sampleKey)
            #expect(socket.status == 101)
            #expect(socket.header("Sec-WebSocket-Accept") == Self.sampleAccept)
            let document = #"{"name": "live", "instances": ["\#(backend.url)"]}"#
            let created = try await AdminAPITests.call(gateway, "POST", "/api/brain/services", body: document)
            #expect(created.status == 201)
            let frame = try await socket.receive()
            #expect(frame.opcode == 1)
            let event = try #require(try JSONSerialization.jsonObject(with: Data(frame.payload)) as? [String: Any])
            #expect(event["type"] as? String == "ServiceRegistered")
            #expect((event["data"] as? [String: Any])?["service"] as? String == "live")
            let id = try #require(event["id"] as? Int)

            // Pings are answered; a close is echoed and ends the connection.
            try await socket.send(opcode: 9, Array("ping?".utf8))
            #expect(try await socket.receive() == .init(opcode: 10, payload: Array("ping?".utf8)))
            try await socket.close(code: 1000)
            #expect(try await socket.receive().closeCode == 1000)
            #expect(await socket.closedByServer())

            // `?since=` replays from there: the event above comes again, first.
            let replay = try await WebSocketTestClient(
                port: gateway.port, path: "/ws/events?since=\(id - 1)", headers: Self.bearer(TestTokens.admin))
            #expect(replay.status == 101)
            let again = try JSONSerialization.jsonObject(with: Data(try await replay.receive().payload)) as? [String: Any]
            #expect(again?["id"] as? Int == id)
            await replay.disconnect()
        }
    }

    @Test func wsEventsClosesWhenItsTokenExpires() async throws {
        try await withGateway(services: { _ in "services: []" }) { gateway, _ in
            let shortLived = TestTokens.make(sub: "admin-1", roles: ["platform-admin"], expiresIn: 2)
            let socket = try await WebSocketTestClient(port: gateway.port, path: "/ws/events", headers: Self.bearer(shortLived))
            #expect(socket.status == 101)
            let opened = ContinuousClock.now
            var frame = try await socket.receive()
            while frame.opcode != 8 { frame = try await socket.receive() }
            #expect(frame.closeCode == 1008)
            #expect(String(decoding: frame.payload.dropFirst(2), as: UTF8.self) == "token expired")
            #expect(ContinuousClock.now - opened < .seconds(6))
            await socket.disconnect()
        }
    }
}
