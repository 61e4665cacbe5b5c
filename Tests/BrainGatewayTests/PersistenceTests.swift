import Atomics
import BrainApplication
import Foundation
import Testing

/// Restarts, the YAML/API precedence, and replicas sharing one PostgreSQL.
@Suite struct PersistenceTests {
    @Test func restartsKeepAPIChangesAndTheYAMLWinsForItsOwnServices() async throws {
        let backend = try await TestBackend()
        let path = NSTemporaryDirectory() + "brain-restart-\(UUID().uuidString).sqlite"
        let yaml = "services:\n  - {name: seeded, url: \(backend.url), base_path: /v1}\n"
        var gateway = try await GatewayHarness.start(yaml: yaml, configure: { $0.storage = .sqlite(path: path) })
        let extra = #"{"name": "extra", "instances": ["\#(backend.url)"], "base_path": "/extra"}"#
        #expect(try await AdminAPITests.call(gateway, "POST", "/api/brain/services", body: extra).status == 201)
        let changed = #"{"name": "seeded", "instances": ["\#(backend.url)"], "base_path": "/v2"}"#
        #expect(try await AdminAPITests.call(gateway, "PUT", "/api/brain/services/seeded", body: changed).status == 200)
        #expect(try await gateway.send("GET /seeded/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").text == "{\"path\":\"/v2/x\"}")
        await gateway.stop()

        gateway = try await GatewayHarness.start(yaml: yaml, configure: { $0.storage = .sqlite(path: path) })
        // The API-created service survived the restart…
        #expect(try await gateway.send("GET /extra/y HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").text == "{\"path\":\"/extra/y\"}")
        // …and the YAML is authoritative for the services it declares.
        #expect(try await gateway.send("GET /seeded/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").text == "{\"path\":\"/v1/x\"}")
        #expect(try await AdminAPITests.call(gateway, "GET", "/api/brain/services/seeded").header("ETag") == "\"3\"")
        #expect(await gateway.gateway.journal.flushed())
        let events = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/events"))["events"] as? [[String: Any]] ?? []
        #expect(events.map { $0["type"] as? String ?? "" } == ["ServiceRegistered", "ServiceRegistered", "ServiceUpdated", "ServiceUpdated"])
        await gateway.stop()
        await backend.shutdown()
    }
}

@Suite(.enabled(if: PostgresTestDatabase.available, "needs the PostgreSQL cluster scripts/test starts"))
struct ReplicaPropagationTests {
    static func admin(_ port: Int, _ method: String, _ path: String, body: String? = nil) async throws -> RawResponse {
        let length = body.map { "Content-Length: \($0.utf8.count)\r\n" } ?? ""
        return try await RawHTTP.send(port: port, TestTokens.authorize(
            "\(method) \(path) HTTP/1.1\r\nHost: x\r\n\(length)Connection: close\r\n\r\n\(body ?? "")", token: TestTokens.admin))
    }

    static func get(_ port: Int, _ path: String) async throws -> RawResponse {
        try await RawHTTP.send(port: port, TestTokens.authorize("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
    }

    /// Polls `port` until `path` answers `status`; returns how long it took.
    static func waitFor(_ port: Int, _ path: String, status: Int, text: String? = nil, within: Duration) async throws -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < within {
            let r = try await get(port, path)
            if r.status == status && (text == nil || r.text == text) { return ContinuousClock.now - start }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    @Test func aChangeOnOneReplicaServesOnTheOtherWithinASecond() async throws {
        let database = try await PostgresTestDatabase.create()
        let backend = try await TestBackend()
        let yaml = "services:\n  - {name: steady, url: \(backend.url), rate_limit: {requests: 1000000, window_seconds: 60}}\n"
        let environment = ["DATABASE_URL": database.gatewayURL, "BRAIN_GATEWAY_MIGRATION_DATABASE_URL": database.ownerURL]
        let a = try await GatewayProcess(yaml: yaml, environment: environment)
        let b = try await GatewayProcess(yaml: yaml, environment: environment)

        // Steady traffic on open keep-alive connections to both replicas throughout.
        let running = ManagedAtomic(true)
        let traffic = Task { () -> (ok: Int, failed: [String]) in
            let connections = [try await KeepAliveConnection(port: a.port), try await KeepAliveConnection(port: b.port)]
            var ok = 0
            var failed: [String] = []
            while running.load(ordering: .relaxed) {
                for connection in connections {
                    do {
                        let r = try await connection.send(TestTokens.authorize("GET /steady/ping HTTP/1.1\r\nHost: x\r\n\r\n"))
                        if r.status == 200 { ok += 1 } else { failed.append("\(r.status) \(r.text)") }
                    } catch {
                        failed.append("\(error)")
                    }
                }
            }
            for connection in connections { await connection.close() }
            return (ok, failed)
        }

        // Registered on A → served by B within a second.
        let fresh = #"{"name": "fresh", "instances": ["\#(backend.url)"], "base_path": "/one"}"#
        #expect(try await Self.admin(a.port, "POST", "/api/brain/services", body: fresh).status == 201)
        let created = try await Self.waitFor(b.port, "/fresh/x", status: 200, text: "{\"path\":\"/one/x\"}", within: .seconds(5))
        #expect(created != nil && created! < .seconds(1), "took \(String(describing: created))")

        // Changed on B → A serves the new version within a second.
        let moved = fresh.replacingOccurrences(of: "/one", with: "/two")
        #expect(try await Self.admin(b.port, "PUT", "/api/brain/services/fresh", body: moved).status == 200)
        let updated = try await Self.waitFor(a.port, "/fresh/x", status: 200, text: "{\"path\":\"/two/x\"}", within: .seconds(5))
        #expect(updated != nil && updated! < .seconds(1), "took \(String(describing: updated))")

        // B's listening connection dies; a change made meanwhile still reaches B (full resync).
        try await PostgresTestDatabase.withAdmin { client in
            try await client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'brain_gateway' AND query LIKE 'LISTEN%'")
        }
        #expect(try await Self.admin(a.port, "DELETE", "/api/brain/services/fresh").status == 204)
        let resynced = try await Self.waitFor(b.port, "/fresh/x", status: 404, within: .seconds(10))
        #expect(resynced != nil)

        try await Task.sleep(for: .milliseconds(200))
        running.store(false, ordering: .relaxed)
        let (ok, failed) = try await traffic.value
        #expect(failed.isEmpty, "\(failed.prefix(5))")
        #expect(ok >= 10, "the steady traffic ran throughout")
        await a.stop()
        await b.stop()
        await backend.shutdown()
    }
}

/// `brainctl` against a running gateway process.
@Suite struct BrainctlTests {
    static var binary: String {
        GatewayProcess.executable.deletingLastPathComponent().appendingPathComponent("brainctl").path
    }

    /// Runs brainctl to completion; returns (exit code, stdout, stderr).
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (Int32, String, String) {
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let result = try await ChildProcess.runCapturing(binary, arguments, environment: env)
        return (result.status, result.output, result.errors)
    }

    @Test func brainctlDrivesTheAdminAPI() async throws {
        let backend = try await TestBackend()
        let gateway = try await GatewayProcess(yaml: "services: []")
        let env = ["BRAIN_GATEWAY_URL": "http://127.0.0.1:\(gateway.port)", "BRAIN_GATEWAY_TOKEN": TestTokens.admin]
        let file = NSTemporaryDirectory() + "brainctl-\(UUID().uuidString).yaml"
        try "services:\n  - name: crm\n    url: \(backend.url)\n    base_path: /api/v1/crm\n  - name: cms\n    instances: [\(backend.url)]\n"
            .write(toFile: file, atomically: true, encoding: .utf8)

        var (code, out, err) = try await Self.run(["services", "apply", "-f", file], environment: env)
        #expect(code == 0, "\(err)")
        #expect(out.contains("crm") && out.contains("created"))
        (code, out, _) = try await Self.run(["services", "apply", "-f", file], environment: env)
        #expect(code == 0 && out.contains("updated"))
        (code, out, _) = try await Self.run(["services", "list"], environment: env)
        #expect(code == 0 && out.hasPrefix("NAME") && out.contains("cms") && out.contains("/api/v1/crm"))
        (code, out, _) = try await Self.run(["services", "get", "crm", "--json"], environment: env)
        let document = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        #expect(document?["base_path"] as? String == "/api/v1/crm")
        (code, out, err) = try await Self.run(["routes", "add", "crm", "/deals/{id}", "--method", "GET"], environment: env)
        #expect(code == 0 && out.contains("/deals/{id}"), "\(err)")
        #expect(try await RawHTTP.send(port: gateway.port, TestTokens.authorize("GET /crm/deals/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).status == 200)
        (code, out, _) = try await Self.run(["health"], environment: env)
        #expect(code == 0 && out.contains("BREAKER") && out.contains("crm"))
        (code, out, _) = try await Self.run(["metrics", "--json"], environment: env)
        #expect((try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])?["total_requests"] as? Int == 1)
        (code, out, _) = try await Self.run(["events", "tail", "--no-follow"], environment: env)
        #expect(code == 0 && out.contains("ServiceRegistered") && out.contains("RouteRegistered"))
        (code, out, _) = try await Self.run(["services", "delete", "cms"], environment: env)
        #expect(code == 0 && out.contains("deleted cms"))

        // Errors: one line on stderr, exit 1.
        (code, _, err) = try await Self.run(["services", "get", "cms"], environment: env)
        #expect(code == 1 && err.hasPrefix("brainctl: HTTP 404") && err.split(separator: "\n").count == 1)
        (code, _, err) = try await Self.run(["services", "list", "--token", "not-a-token"], environment: env)
        #expect(code == 1 && err.hasPrefix("brainctl: HTTP 401"))
        (code, _, err) = try await Self.run(["services", "list", "--url", "http://127.0.0.1:\(RefusingPort().port)"], environment: env)
        #expect(code == 1 && err.hasPrefix("brainctl: cannot reach"))
        await gateway.stop()
        await backend.shutdown()
    }
}

/// `brainctl workflows|runs|agents` against a running gateway process.
@Suite struct BrainctlWorkflowTests {
    @Test func brainctlAppliesRunsAndShowsWorkflows() async throws {
        let backend = try await ScriptedBackend { request in
            switch request.uri {
            case "/agents/execute": return .json(#"{"score": 88}"#)
            case "/agents/catalog": return .json(#"[{"name": "scorer"}]"#)
            default: return .json(#"{"id": "L-9"}"#, status: 201)
            }
        }
        let gateway = try await GatewayProcess(yaml: "services:\n  - {name: crm, url: \(backend.url), base_path: /crm}\n  - {name: ai-agents, url: \(backend.url), base_path: /agents}\n")
        let admin = ["BRAIN_GATEWAY_URL": "http://127.0.0.1:\(gateway.port)", "BRAIN_GATEWAY_TOKEN": TestTokens.admin]
        let user = ["BRAIN_GATEWAY_URL": "http://127.0.0.1:\(gateway.port)", "BRAIN_GATEWAY_TOKEN": TestTokens.user]
        let file = NSTemporaryDirectory() + "brainctl-workflows-\(UUID().uuidString).yaml"
        try """
            workflows:
              - name: lead
                steps:
                  - {id: score, agent: scorer, action: score}
                  - {id: create, needs: [score], call: {service: crm, method: POST, path: /leads, body: {score: "{{ steps.score.body.score }}"}}}
                response: {status: 200, body: {lead: "{{ steps.create.body.id }}", score: "{{ steps.score.body.score }}"}}
            """.write(toFile: file, atomically: true, encoding: .utf8)
        try await withTeardown {
            var (code, out, err) = try await BrainctlTests.run(["workflows", "apply", "-f", file], environment: admin)
            #expect(code == 0 && out.contains("lead") && out.contains("created"), "\(err)")
            (code, out, _) = try await BrainctlTests.run(["workflows", "list"], environment: admin)
            #expect(code == 0 && out.hasPrefix("NAME") && out.contains("score,create"))
            (code, out, err) = try await BrainctlTests.run(["runs", "start", "lead", "--input", "{}"], environment: user)
            #expect(code == 0 && out.contains("\"lead\" : \"L-9\"") && out.contains("\"score\" : 88"), "\(out) \(err)")
            (code, out, _) = try await BrainctlTests.run(["runs", "list", "--json"], environment: user)
            let runs = (try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])?["runs"] as? [[String: Any]] ?? []
            let id = try #require(runs.first?["id"] as? String)
            (code, out, _) = try await BrainctlTests.run(["runs", "get", id], environment: user)
            #expect(code == 0 && out.contains("succeeded") && out.contains("STEP") && out.contains("create"))
            (code, out, err) = try await BrainctlTests.run(["agents", "run", "facebook", "post", "--data", "{}"], environment: user)
            #expect(code == 0 && out.contains("pattern four_agent"), "\(out) \(err)")
            (code, out, _) = try await BrainctlTests.run(["agents", "list"], environment: user)
            #expect(code == 0 && out.contains("four_agent") && out.contains("scorer"))
            (code, out, _) = try await BrainctlTests.run(["workflows", "delete", "lead"], environment: admin)
            #expect(code == 0 && out.contains("deleted lead"))
            (code, _, err) = try await BrainctlTests.run(["runs", "start", "lead"], environment: user)
            #expect(code == 1 && err.hasPrefix("brainctl: HTTP 404 workflow_not_found"), "\(err)")
        } teardown: {
            await gateway.stop()
            await backend.shutdown()
        }
    }
}
