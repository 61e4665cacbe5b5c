import Foundation
import Testing

/// AI-agent routing end to end: the crew decided by tier, the agents service's request contract,
/// its answer relayed, deadline, async runs and the catalogue.
@Suite struct AgentTests {
    static func yaml(_ backend: ScriptedBackend, timeoutMs: Int = 2000) -> String {
        """
        services:
          - {name: ai-agents, url: \(backend.url), base_path: /v1/agents}
        agents:
          timeout_ms: \(timeoutMs)
          retry: {attempts: 1}
        """
    }

    static func withAgents(
        timeoutMs: Int = 2000, _ reply: @escaping @Sendable (ScriptedBackend.Request) -> ScriptedBackend.Reply,
        _ body: (GatewayHarness, ScriptedBackend) async throws -> Void
    ) async throws {
        let backend = try await ScriptedBackend(reply: reply)
        let gateway = try await GatewayHarness.start(yaml: Self.yaml(backend, timeoutMs: timeoutMs))
        try await withTeardown {
            try await body(gateway, backend)
        } teardown: {
            await gateway.stop()
            await backend.shutdown()
        }
    }

    static let echo: @Sendable (ScriptedBackend.Request) -> ScriptedBackend.Reply = { request in
        if request.uri == "/v1/agents/catalog" { return .json(#"{"agents": [{"name": "lead-scoring-agent"}, {"name": "optimization-crew"}]}"#) }
        let payload = (request.json as? [String: Any]) ?? [:]
        return .json(#"{"pattern": "\#(payload["pattern"] as? String ?? "")", "agents": \#(payload["agents"] as? Int ?? 0)}"#, status: 201)
    }

    @Test(arguments: [("facebook", "four_agent", 4), ("instagram", "three_agent", 3), ("twitter", "two_agent", 2), ("lead-scoring-agent", "single_agent", 1)])
    func theTierDecidesTheCrew(name: String, pattern: String, agents: Int) async throws {
        try await Self.withAgents(Self.echo) { gateway, backend in
            let r = try await AdminAPITests.call(gateway, "POST", "/api/brain/agents/\(name)/post_content", body: #"{"text": "hi"}"#, token: TestTokens.user)
            #expect(r.status == 201, "\(r.text)")
            #expect(r.header("X-Brain-Agent-Pattern") == pattern)
            #expect(AdminAPITests.json(r) as NSDictionary == ["pattern": pattern, "agents": agents] as NSDictionary)
            let sent = try #require(backend.requests.first)
            #expect(sent.method == "POST" && sent.uri == "/v1/agents/execute")
            let payload = try #require(sent.json as? [String: Any])
            let isIntegration = pattern != "single_agent"
            #expect((payload["integration"] as? String) == (isIntegration ? name : nil) && (payload["agent"] as? String) == (isIntegration ? nil : name))
            #expect(payload["action"] as? String == "post_content" && (payload["data"] as? NSDictionary) == ["text": "hi"] as NSDictionary)
            #expect(payload["tenant_id"] as? String == TestTokens.tenantA && payload["request_id"] is String)
            #expect(sent.header("X-Tenant-ID") == TestTokens.tenantA && sent.header("X-Brain-Token") != nil)
            // The call is a stored one-step run.
            let run = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/runs/\(r.header("X-Brain-Run-ID") ?? "")", token: TestTokens.user))
            #expect(run["workflow"] as? String == "agent-call" && run["status"] as? String == "succeeded")
        }
    }

    @Test func theAgentServicesRefusalIsRelayedAndASlowOneIs504() async throws {
        // A deadline a loaded test machine still meets for a quick answer; the slow one is far beyond it.
        try await Self.withAgents(timeoutMs: 2000, { request in
            (request.json as? [String: Any])?["action"] as? String == "slow" ? .json("{}", delay: 10_000) : .json(#"{"error": "no such action"}"#, status: 404)
        }) { gateway, _ in
            let refused = try await AdminAPITests.call(gateway, "POST", "/api/brain/agents/scorer/unknown", body: "{}", token: TestTokens.user)
            #expect(refused.status == 404 && AdminAPITests.json(refused)["error"] as? String == "no such action", "\(refused.text)")
            let started = Date()
            let slow = try await AdminAPITests.call(gateway, "POST", "/api/brain/agents/scorer/slow", body: "{}", token: TestTokens.user)
            #expect(slow.status == 504 && AdminAPITests.json(slow)["error"] as? String == "gateway_timeout", "\(slow.text)")
            #expect(Date().timeIntervalSince(started) < 6, "the agents deadline (2 s), not the agent's 10 s")
            #expect(try await AdminAPITests.call(gateway, "POST", "/api/brain/agents/Bad!/x", body: "{}", token: TestTokens.user).status == 422)
            #expect(try await AdminAPITests.call(gateway, "POST", "/api/brain/agents/scorer/x", body: "{}", token: "").status == 401)
        }
    }

    @Test func anAsyncAgentCallIsARunAndTheCatalogueIsListed() async throws {
        try await Self.withAgents(Self.echo) { gateway, backend in
            let r = try await AdminAPITests.call(gateway, "POST", "/api/brain/agents/stripe/reconcile", body: "{}", headers: "Prefer: respond-async\r\n", token: TestTokens.user)
            #expect(r.status == 202 && r.header("X-Brain-Agent-Pattern") == "four_agent")
            let id = try #require(AdminAPITests.json(r)["run_id"] as? String)
            var run: [String: Any] = [:]
            for _ in 0..<50 {
                run = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/runs/\(id)", token: TestTokens.user))
                if run["status"] as? String != "running" { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(run["status"] as? String == "succeeded")
            let catalogue = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/agents", token: TestTokens.user))
            #expect(((catalogue["tiers"] as? [String: Any])?["four_agent"] as? [String])?.contains("facebook") == true)
            #expect((catalogue["agents"] as? [[String: Any]])?.map { $0["name"] as? String } == ["lead-scoring-agent", "optimization-crew"])
            _ = try await AdminAPITests.call(gateway, "GET", "/api/brain/agents", token: TestTokens.user)
            #expect(backend.requests(matching: "/catalog").count == 1)
            // ai_agent_executions counts agent calls.
            let metrics = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/metrics"))
            #expect(metrics["ai_agent_executions"] as? Int == 1)
        }
    }
}
