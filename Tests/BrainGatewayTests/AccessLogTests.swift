import Testing

/// The structured access log: one line per request with the fields operators search on.
@Suite struct AccessLogTests {
    @Test func everyProxiedRequestIsLoggedOnceWithItsFields() async throws {
        let backend = try await TestBackend()
        let recorder = LogRecorder()
        let gateway = try await GatewayHarness.start(yaml: oneService(backend), logger: recorder.logger(level: .info))
        _ = try await gateway.send("POST /svc/echo?token=secret HTTP/1.1\r\nHost: x\r\nX-Request-ID: log-test-1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
        _ = try await gateway.send("GET /nope/x HTTP/1.1\r\nHost: x\r\nX-Request-ID: log-test-2\r\nConnection: close\r\n\r\n")
        await gateway.stop()
        await backend.shutdown()

        let lines = recorder.all.filter { $0.message == "request" }
        let first = try #require(lines.first { $0.metadata["request_id"] == "log-test-1" })
        #expect(first.level == .info)
        #expect(first.metadata["method"] == "POST")
        #expect(first.metadata["path"] == "/svc/echo")   // the query (maybe a secret) is left out
        #expect(first.metadata["service"] == "svc")
        #expect(first.metadata["status"] == "200")
        #expect(first.metadata["bytes_in"] == "5")
        #expect(first.metadata["bytes_out"] == "5")
        #expect(first.metadata["duration_ms"] != nil)
        #expect(first.metadata["tenant_id"] == TestTokens.tenantA)
        #expect(first.metadata["subject"] == "user-1")
        let second = try #require(lines.first { $0.metadata["request_id"] == "log-test-2" })
        #expect(second.metadata["status"] == "404")
        #expect(lines.filter { $0.metadata["request_id"] == "log-test-1" }.count == 1)
        #expect(!recorder.all.contains { $0.metadata.values.contains { $0.contains("secret") } })
    }

    @Test func accessLogIsOffAboveInfo() async throws {
        let backend = try await TestBackend()
        let recorder = LogRecorder()
        let gateway = try await GatewayHarness.start(yaml: oneService(backend), logger: recorder.logger(level: .warning))
        let served = try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        await gateway.stop()
        await backend.shutdown()
        // The request was served, so a line would have been written at info.
        #expect(served.status == 200 && backend.requests.count == 1)
        #expect(!recorder.all.contains { $0.message == "request" })
    }
}
