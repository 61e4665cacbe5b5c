import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// The real executable: configuration errors, graceful shutdown, memory under 1 GiB streams.
@Suite(.serialized) struct ProcessLifecycleTests {
    /// Runs the executable with a bad setting and returns (exit code, stderr).
    func failingStart(yaml: String?, environment: [String: String]) async throws -> (Int32, String) {
        let gateway = try await GatewayProcess(yaml: yaml, environment: environment, waitUntilReady: false)
        let code = await gateway.waitForExit(timeout: .seconds(20))
        let err = gateway.allErrorOutput()
        await gateway.stop()
        return (code ?? -1, err)
    }

    @Test(arguments: [
        (["BRAIN_GATEWAY_PORT": "99999"], "BRAIN_GATEWAY_PORT"),
        (["LOG_LEVEL": "loud"], "LOG_LEVEL"),
        (["HEALTH_CHECK_INTERVAL": "soon"], "HEALTH_CHECK_INTERVAL"),
        (["DATABASE_URL": "mysql://x"], "DATABASE_URL"),
        (["REDIS_URL": "http://x"], "REDIS_URL"),
        (["BRAIN_GATEWAY_CONFIG": "/nonexistent/file.yaml"], "BRAIN_GATEWAY_CONFIG"),
        (["JWT_SECRET": ""], "JWT_SECRET"),
        (["JWT_SECRET": "too-short"], "JWT_SECRET"),
        (["JWT_JWKS_URL": "ftp://idp.example/jwks.json"], "JWT_JWKS_URL"),
        (["VAULT_ADDR": "http://127.0.0.1:8200"], "VAULT_TOKEN"),
        (["VAULT_TOKEN": "t"], "VAULT_ADDR"),
        (["VAULT_ADDR": "vault:8200", "VAULT_TOKEN": "t"], "VAULT_ADDR"),
        (["BRAIN_GATEWAY_SECRETS_KEY": "c2hvcnQ="], "BRAIN_GATEWAY_SECRETS_KEY"),
        (["BRAIN_GATEWAY_SECRETS_KEY_FILE": "/nonexistent/key"], "BRAIN_GATEWAY_SECRETS_KEY_FILE"),
        (["BRAIN_GATEWAY_INTEGRATION_RATE_LIMIT": "0"], "BRAIN_GATEWAY_INTEGRATION_RATE_LIMIT"),
    ])
    func badEnvironmentStopsStartupWithOneLine(environment: [String: String], field: String) async throws {
        let (code, err) = try await failingStart(yaml: nil, environment: environment)
        #expect(code == 1)
        let lines = err.split(separator: "\n")
        #expect(lines.count == 1, "\(err)")
        #expect(err.contains(field))
    }

    @Test(arguments: [
        ("services:\n  - {name: api, url: http://127.0.0.1:1}\n", "services[0].name"),
        ("services:\n  - {name: ok, url: ftp://x}\n", "services[0].url"),
        ("services:\n  - {name: ok, instances: [http://127.0.0.1:1, nope]}\n", "services[0].instances[1]"),
        ("services:\n  - {name: ok, url: http://127.0.0.1:1, timeout_ms: -1}\n", "services[0].timeout_ms"),
        ("services:\n  - {name: ok, url: http://127.0.0.1:1, routes: [{path: nope}]}\n", "services[0].routes[0].path"),
        ("services:\n  - {name: ok, url: http://127.0.0.1:1, colour: red}\n", "services[0].colour"),
        ("services:\n  - {name: a, url: http://127.0.0.1:1}\n  - {name: a, url: http://127.0.0.1:2}\n", "services[1].name"),
        ("services: [\n", "BRAIN_GATEWAY_CONFIG"),
        // Workflows are checked whole at start, the registry included.
        ("services:\n  - {name: a, url: http://127.0.0.1:1}\nworkflows:\n  - {name: w, steps: [{id: x, call: {service: nobody, path: /}}]}\n", "workflows[0].steps[0].call.service"),
        ("services:\n  - {name: a, url: http://127.0.0.1:1}\nworkflows:\n  - {name: w, steps: [{id: x, needs: [y], call: {service: a, path: /}}, {id: y, needs: [x], call: {service: a, path: /}}]}\n", "workflows[0].steps[0].needs"),
        ("services:\n  - {name: a, url: http://127.0.0.1:1}\nworkflows:\n  - {name: w, steps: [{id: x, when: 'input.a >', call: {service: a, path: /}}]}\n", "workflows[0].steps[0].when"),
        ("services: []\nintegrations:\n  - {name: acme, category: x, auth: bearer, credentials: [api_key]}\n", "integrations[0].base_url"),
        ("services: []\nintegrations:\n  - {name: acme, category: x, auth: 'header:Bad Name', credentials: [k], base_url: 'https://x'}\n", "integrations[0].auth"),
        ("services: []\nworkflows:\n  - {name: w, steps: [{id: x, integration: {name: nope, path: /}}]}\n", "workflows[0].steps[0].integration.name"),
    ])
    func badYAMLStopsStartupNamingTheField(yaml: String, field: String) async throws {
        let (code, err) = try await failingStart(yaml: yaml, environment: [:])
        #expect(code == 1)
        #expect(err.split(separator: "\n").count == 1, "\(err)")
        #expect(err.contains(field + ":"), "\(err)")
    }

    @Test func shortSecretsAreNeverEchoed() async throws {
        let (code, err) = try await failingStart(yaml: nil, environment: ["JWT_SECRET": "hunter2-password"])
        // Refused for being short, with one line naming the variable, and without the value.
        #expect(code == 1)
        let lines = err.split(separator: "\n").filter { $0.contains("JWT_SECRET") }
        #expect(lines.count == 1 && lines.first?.contains("at least 32 bytes") == true, "\(err)")
        #expect(!err.contains("hunter2"))
    }

    @Test func developmentModePrintsAWorkingAdminToken() async throws {
        let backend = try await TestBackend()
        let gateway = try await GatewayProcess(yaml: oneService(backend), environment: ["JWT_SECRET": ""], arguments: ["--dev"])
        var output = ""
        for _ in 0..<50 where !output.contains("Bearer ") {
            output += gateway.standardOutput()
            try await Task.sleep(for: .milliseconds(50))
        }
        let line = try #require(output.split(separator: "\n").first { $0.contains("Authorization: Bearer ") })
        let token = String(line.split(separator: " ").last ?? "")
        let ok = try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", token: token)
        #expect(ok.status == 200)
        // The test suite's own key is not the generated one.
        let other = try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(other.status == 401)
        await gateway.stop()
        await backend.shutdown()
    }

    @Test func shippedConfigurationLoadsTheSeedsServicesAndNotification() async throws {
        let root = GatewayProcess.executable.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let yaml = try String(contentsOf: root.appendingPathComponent("config/brain-gateway.yaml"), encoding: .utf8)
        let gateway = try await GatewayProcess(yaml: yaml)
        let r = try await gateway.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let json = try #require(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
        let services = try #require(json["services"] as? [String: Any])
        #expect(services.count == 14)
        for name in ["notification", "ai-agents", "auth-service", "wagtail-cms", "saleor-backend", "django-crm", "coreldove-backend", "amazon-sourcing",
                     "business-directory", "quanttrade-backend", "vault", "temporal", "superset", "redis"] {
            #expect(services[name] != nil, "\(name)")
        }
        await gateway.stop()
    }

    @Test func sigtermLetsTheInFlightRequestFinishThenExitsZero() async throws {
        let backend = try await TestBackend()
        let gateway = try await GatewayProcess(yaml: oneService(backend))
        async let slow = gateway.send("GET /svc/slow/1500 HTTP/1.1\r\nHost: x\r\n\r\n", timeout: .seconds(10))
        // Wait until the request reached the backend, then ask the gateway to stop.
        while backend.requests.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        gateway.signal(SIGTERM)
        try await Task.sleep(for: .milliseconds(300))
        // No new connections are accepted while draining.
        let refused = (try? await gateway.send("GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout: .seconds(1))) == nil
        #expect(refused)
        let response = try await slow
        #expect(response.status == 200)
        #expect(response.text == "{\"slow\":1500}")
        #expect(await gateway.waitForExit(timeout: .seconds(10)) == 0)
        await backend.shutdown()
    }

    @Test func drainTimeBoundsShutdown() async throws {
        let backend = try await TestBackend()
        let gateway = try await GatewayProcess(yaml: oneService(backend), environment: ["BRAIN_GATEWAY_SHUTDOWN_DRAIN": "1"])
        async let hung = try? gateway.exchange("GET /svc/hang HTTP/1.1\r\nHost: x\r\n\r\n", timeout: .seconds(15))
        while backend.requests.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        let started = ContinuousClock.now
        gateway.signal(SIGINT)
        #expect(await gateway.waitForExit(timeout: .seconds(10)) == 0)
        #expect(ContinuousClock.now - started < .seconds(8))
        _ = await hung
        await backend.shutdown()
    }

    @Test func oneGibibyteUpAndDownKeepsMemoryFlat() async throws {
        let backend = try await TestBackend()
        let gateway = try await GatewayProcess(yaml: oneService(backend))
        let before = gateway.memory()
        let size = 1 << 30
        let chunk = ByteBuffer(repeating: 0x5A, count: 256 * 1024)

        // Upload: streamed by the client, counted by the backend.
        var upload = authorized(HTTPClientRequest(url: "http://127.0.0.1:\(gateway.port)/svc/sink"))
        upload.method = .POST
        let parts = size / chunk.readableBytes
        upload.body = .stream(AsyncStream<ByteBuffer> { continuation in
            for _ in 0..<parts { continuation.yield(chunk) }
            continuation.finish()
        }, length: .known(Int64(size)))
        let uploaded = try await HTTPClient.shared.execute(upload, timeout: .seconds(300))
        let summary = try await uploaded.body.collect(upTo: 1024)
        #expect(uploaded.status == .ok)
        #expect(String(buffer: summary).contains("\"bytes\":\(size)"))

        // Download: streamed by the backend, counted by the client.
        let download = try await HTTPClient.shared.execute(authorized(HTTPClientRequest(url: "http://127.0.0.1:\(gateway.port)/svc/bytes/\(size)")), timeout: .seconds(300))
        var received = 0
        var firstOK = true
        for try await part in download.body {
            if received == 0 { firstOK = part.readableBytesView.prefix(64).enumerated().allSatisfy { $0.element == TestBackend.patternByte($0.offset) } }
            received += part.readableBytes
        }
        #expect(received == size)
        #expect(firstOK)

        let after = gateway.memory()
        let growth = after.peak - before.rss
        print("gateway RSS before \(before.rss >> 20) MiB, peak \(after.peak >> 20) MiB, growth \(growth >> 20) MiB")
        #expect(growth < 64 << 20)
        await gateway.stop()
        await backend.shutdown()
    }
}
