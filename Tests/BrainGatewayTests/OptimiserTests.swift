import Foundation
import NIOConcurrencyHelpers
import Testing

/// The autonomous optimiser end to end: real backends (one slow, one failing, one answering
/// 429), real traffic through the data plane, analyses run through the API (deterministic) or
/// by the loop itself (short intervals), and what they did checked at the backends, in the
/// registry, the events and the metrics.
@Suite(.serialized) struct OptimiserTests {
    /// Counts the requests it answers; its delay, status and failure rate can change mid-test.
    final class Instance: Sendable {
        let backend: ScriptedBackend
        private let behaviour: NIOLockedValueBox<(delay: Int, status: Int, failEvery: Int, served: Int)>

        init(delay: Int = 0, status: Int = 200, failEvery: Int = 0) async throws {
            let behaviour = NIOLockedValueBox((delay: delay, status: status, failEvery: failEvery, served: 0))
            self.behaviour = behaviour
            backend = try await ScriptedBackend { _ in
                behaviour.withLockedValue { b in
                    b.served += 1
                    let failing = b.failEvery > 0 && b.served % b.failEvery == 0
                    return .json(#"{"ok": true}"#, status: failing ? 500 : b.status, delay: b.delay)
                }
            }
        }

        var url: String { backend.url }
        var served: Int { behaviour.withLockedValue { $0.served } }
        func set(delay: Int) { behaviour.withLockedValue { $0.delay = delay } }
    }

    /// The agents service: answers every call, records them.
    static func agents() async throws -> ScriptedBackend {
        try await ScriptedBackend { request in
            let payload = (request.json as? [String: Any]) ?? [:]
            return .json(#"{"handled": "\#(payload["action"] as? String ?? "")", "advice": "shift traffic"}"#)
        }
    }

    static func executions(_ agents: ScriptedBackend, agent: String) -> [[String: Any]] {
        agents.requests(matching: "/execute").compactMap { $0.json as? [String: Any] }.filter { $0["agent"] as? String == agent }
    }

    static func yaml(
        services: String, agents: ScriptedBackend, mode: String = "act", interval: Double = 3600, window: Double = 1.5, extra: String = ""
    ) -> String {
        """
        defaults:
          rate_limit: {requests: 1000000, window_seconds: 60}
        services:
          - {name: ai-agents, url: \(agents.url), base_path: /v1/agents}
        \(services)
        agents:
          timeout_ms: 5000
          retry: {attempts: 1}
        workflows:
          - name: self-heal
            roles: [platform-admin]
            steps:
              - id: heal
                agent: self-healing-crew
                action: heal
                with: "{{ input }}"
            response:
              status: 200
              body: {service: "{{ input.service }}", healing: "{{ steps.heal.body }}"}
        optimizer:
          mode: \(mode)
          interval_seconds: \(interval)
          window_seconds: \(window)
          min_requests: 5
          latency_p95_ms: 1000
          error_rate: 0.05
          consecutive_windows: 2
          max_weight_change_percent: 50
          min_weight_percent: 10
          cooldown_seconds: 600
          optimization_agent: optimization-crew
          self_healing_workflow: self-heal
        \(extra)
        """
    }

    /// `clients` callers sending `GET path` back to back for `seconds`.
    @discardableResult
    static func load(_ gateway: GatewayHarness, _ path: String, clients: Int = 8, seconds: Double) async throws -> [Int: Int] {
        let until = Date().addingTimeInterval(seconds)
        return try await withThrowingTaskGroup(of: [Int: Int].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var statuses: [Int: Int] = [:]
                    while Date() < until {
                        let r = try await gateway.send("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                        statuses[Int(r.status), default: 0] += 1
                    }
                    return statuses
                }
            }
            var total: [Int: Int] = [:]
            for try await part in group { total.merge(part, uniquingKeysWith: +) }
            return total
        }
    }

    static func analyse(_ gateway: GatewayHarness) async throws -> [[String: Any]] {
        let r = try await AdminAPITests.call(gateway, "POST", "/api/brain/optimize-platform")
        #expect(r.status == 200, "\(r.text)")
        return AdminAPITests.json(r)["decisions"] as? [[String: Any]] ?? []
    }

    static func status(_ gateway: GatewayHarness) async throws -> [String: Any] {
        AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/optimizer"))
    }

    static func weights(_ gateway: GatewayHarness, _ service: String) async throws -> [String: Int] {
        let status = try await Self.status(gateway)
        let instances = ((status["services"] as? [String: Any])?[service] as? [String: Any])?["instances"] as? [String: [String: Any]] ?? [:]
        return instances.mapValues { $0["weight"] as? Int ?? -1 }
    }

    static func actions(_ decisions: [[String: Any]]) -> [String] { decisions.compactMap { $0["action"] as? String } }

    static func waitFor(_ seconds: Double = 10, _ condition: () async throws -> Bool) async throws -> Bool {
        let until = Date().addingTimeInterval(seconds)
        while Date() < until {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    /// With a fast and a 1.2 s instance, clients spend most of their time waiting on the slow
    /// one, and the fast answers come in bursts about 1.2 s apart: a window of 3 s always holds
    /// some of both (a load of 3.2 s fills it).
    static let twoInstanceWindow = 3.0

    /// Without `weight`, each instance has the default weight 1.
    static func twoInstances(_ fast: Instance, _ slow: Instance, name: String = "shop", balancing: String = "round_robin", weight: Int? = 100) -> String {
        """
          - name: \(name)
            base_path: /
            load_balancing: \(balancing)
            retry: {retries: 0}
            instances:
              - {url: \(fast.url)\(weight.map { ", weight: \($0)" } ?? "")}
              - {url: \(slow.url)\(weight.map { ", weight: \($0)" } ?? "")}
        """
    }

    @Test func aSlowInstanceLosesWeightTrafficShiftsTheAgentIsCalledOnceAndItIsRestoredWhenItRecovers() async throws {
        let agents = try await Self.agents()
        let fast = try await Instance()
        let slow = try await Instance(delay: 1200)
        // Default weights (1 each): the optimiser works on them ×100 and writes them back at the end.
        let gateway = try await GatewayHarness.start(yaml: Self.yaml(services: Self.twoInstances(fast, slow, weight: nil), agents: agents, window: Self.twoInstanceWindow))
        try await withTeardown {
            let slowURL = slow.url
            // Two analyses of a breach: the first only counts it.
            try await Self.load(gateway, "/shop/x", clients: 16, seconds: 3.2)
            #expect(try await Self.analyse(gateway).isEmpty, "one window is not a breach yet")
            let beforeFast = fast.served, beforeSlow = slow.served
            try await Self.load(gateway, "/shop/x", clients: 16, seconds: 3.2)
            let evenShare = Double(slow.served - beforeSlow) / Double(slow.served - beforeSlow + fast.served - beforeFast)
            let second = try await Self.analyse(gateway)
            let afterSecond = try await Self.status(gateway)["services"] ?? [:]
            #expect(Self.actions(second) == ["call_agent", "reduce_weight"], "\(second) \(afterSecond)")
            let reduction = try #require(second.last)
            #expect(reduction["instance"] as? String == slowURL && reduction["from_weight"] as? Int == 100 && reduction["to_weight"] as? Int == 50)
            #expect(reduction["rule"] as? String == "optimize" && reduction["mode"] as? String == "act" && reduction["outcome"] as? String == "applied")
            let evidence = try #require(reduction["evidence"] as? [String: Any])
            #expect((evidence["p95_ms"] as? Double ?? 0) > 1000 && (evidence["requests"] as? Int ?? 0) >= 5)
            #expect(try await Self.weights(gateway, "shop") == [slowURL: 50, fast.url: 100])

            // Traffic shifts: the slow instance's share falls from a half toward a third.
            let midFast = fast.served, midSlow = slow.served
            try await Self.load(gateway, "/shop/x", clients: 16, seconds: 3.2)
            let reducedShare = Double(slow.served - midSlow) / Double(slow.served - midSlow + fast.served - midFast)
            #expect(evenShare > 0.4 && reducedShare < evenShare - 0.1, "share \(evenShare) → \(reducedShare)")
            // Still slow: another bounded step, to the floor; no second agent call.
            let third = try await Self.analyse(gateway)
            #expect(Self.actions(third) == ["reduce_weight"] && third.first?["to_weight"] as? Int == 10, "\(third)")

            // The agent got the evidence, once.
            #expect(try await Self.waitFor { !Self.executions(agents, agent: "optimization-crew").isEmpty })
            let call = try #require(Self.executions(agents, agent: "optimization-crew").first)
            let data = try #require(call["data"] as? [String: Any])
            #expect(call["action"] as? String == "optimize" && data["service"] as? String == "shop" && (data["p95_ms"] as? Double ?? 0) > 1000)
            #expect((data["instances"] as? [[String: Any]])?.count == 2)

            // The slow one recovers: after the window has only fast answers, two analyses of
            // recovery, then the weight climbs back step by step.
            slow.set(delay: 0)
            try await Self.load(gateway, "/shop/x", clients: 16, seconds: 3.2)
            #expect(try await Self.analyse(gateway).isEmpty, "one good window is not a recovery yet")
            try await Self.load(gateway, "/shop/x", seconds: 0.5)
            let restoring = try await Self.analyse(gateway)
            #expect(Self.actions(restoring) == ["restore_weight"] && restoring.first?["to_weight"] as? Int == 60, "\(restoring)")
            try await Self.load(gateway, "/shop/x", seconds: 0.5)
            let restored = try await Self.analyse(gateway)
            #expect(Self.actions(restored) == ["restore_weight", "recovered"] && restored.first?["to_weight"] as? Int == 100, "\(restored)")
            #expect(try await Self.weights(gateway, "shop") == [slowURL: 1, fast.url: 1], "the configured weights again")
            #expect(Self.executions(agents, agent: "optimization-crew").count == 1)

            // One event per decision, and the count in the summary and in Prometheus.
            let total = second.count + third.count + restoring.count + restored.count
            #expect(try await Self.waitFor {
                let events = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/events?type=AutonomousDecision"))["events"] as? [[String: Any]]
                return events?.count == total
            })
            let metrics = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/metrics"))
            #expect(metrics["autonomous_decisions"] as? Int == total)
            let prometheus = try await gateway.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").text
            #expect(prometheus.contains(#"brain_gateway_autonomous_decisions_total{rule="optimize",action="reduce_weight",mode="act",outcome="applied"} 2"#), "\(prometheus.split(separator: "\n").filter { $0.contains("autonomous") })")
        } teardown: {
            await gateway.stop()
            for backend in [agents, fast.backend, slow.backend] { await backend.shutdown() }
        }
    }

    @Test func anInstanceFailingOneRequestInTenRunsTheSelfHealingWorkflowOncePerIncident() async throws {
        let agents = try await Self.agents()
        let flaky = try await Instance(failEvery: 10)
        let services = """
          - {name: billing, url: \(flaky.url), base_path: /, retry: {retries: 0}}
        """
        // The loop itself, every 0.3 s.
        let gateway = try await GatewayHarness.start(yaml: Self.yaml(services: services, agents: agents, interval: 0.3, window: 1))
        try await withTeardown {
            try await Self.load(gateway, "/billing/x", clients: 4, seconds: 3)
            #expect(try await Self.waitFor { Self.executions(agents, agent: "self-healing-crew").count == 1 })
            try await Self.load(gateway, "/billing/x", clients: 4, seconds: 1.5)
            let calls = Self.executions(agents, agent: "self-healing-crew")
            #expect(calls.count == 1, "once per incident, however long it lasts")
            let input = try #require(calls.first?["data"] as? [String: Any])
            #expect(input["service"] as? String == "billing" && (input["error_rate"] as? Double ?? 0) > 0.05)
            #expect(input["p95_ms"] is Double && (input["requests"] as? Int ?? 0) >= 5 && (input["instances"] as? [[String: Any]])?.count == 1)

            // The decision names the run, and the run recorded the agent's answer.
            let decisions = try await Self.status(gateway)["decisions"] as? [[String: Any]] ?? []
            let heal = try #require(decisions.first { $0["action"] as? String == "run_workflow" })
            #expect(heal["rule"] as? String == "self_heal" && heal["outcome"] as? String == "started")
            let runID = try #require(heal["run_id"] as? String)
            var run: [String: Any] = [:]
            #expect(try await Self.waitFor {
                run = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/runs/\(runID)"))
                return run["status"] as? String == "succeeded"
            }, "\(run)")
            #expect(run["workflow"] as? String == "self-heal")
            let body = run["output"] as? [String: Any]
            #expect(body?["service"] as? String == "billing" && (body?["healing"] as? [String: Any])?["handled"] as? String == "heal", "\(run)")
        } teardown: {
            await gateway.stop()
            for backend in [agents, flaky.backend] { await backend.shutdown() }
        }
    }

    @Test func dryRunRecordsDecisionsAndChangesNothing() async throws {
        let agents = try await Self.agents()
        let fast = try await Instance()
        let slow = try await Instance(delay: 1200)
        let gateway = try await GatewayHarness.start(yaml: Self.yaml(services: Self.twoInstances(fast, slow), agents: agents, mode: "dry_run", window: Self.twoInstanceWindow))
        try await withTeardown {
            var decisions: [[String: Any]] = []
            for _ in 0..<3 {
                try await Self.load(gateway, "/shop/x", clients: 16, seconds: 3.2)
                decisions += try await Self.analyse(gateway)
            }
            // As in act: the agent call, then the slow instance's weight in steps — recorded only.
            #expect(Self.actions(decisions) == ["call_agent", "reduce_weight", "reduce_weight"], "\(decisions)")
            #expect(decisions.allSatisfy { $0["mode"] as? String == "dry_run" && $0["outcome"] as? String == "recorded" })
            #expect(decisions.last?["to_weight"] as? Int == 10)
            #expect(try await Self.weights(gateway, "shop")[slow.url] == 100)
            let service = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/services/shop"))
            #expect((service["instances"] as? [[String: Any]])?.compactMap { $0["weight"] as? Int } == [100, 100], "\(service)")
            try await Task.sleep(for: .milliseconds(300))
            #expect(agents.requests(matching: "/execute").isEmpty)
            #expect(try await Self.waitFor {
                let events = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/events?type=AutonomousDecision"))["events"] as? [[String: Any]]
                return events?.count == 3 && events?.allSatisfy { ($0["data"] as? [String: Any])?["outcome"] as? String == "recorded" } == true
            })
        } teardown: {
            await gateway.stop()
            for backend in [agents, fast.backend, slow.backend] { await backend.shutdown() }
        }
    }

    /// A gateway with one single-instance service `report` answering in 1.2 s, and the agents
    /// service; `body` gets the gateway and the agents backend.
    static func withSlowReport(
        mode: String = "act", interval: Double = 3600, window: Double = 1.5, _ body: (GatewayHarness, ScriptedBackend) async throws -> Void
    ) async throws {
        let agents = try await Self.agents()
        let slow = try await Instance(delay: 1200)
        let services = "  - {name: report, url: \(slow.url), base_path: /}"
        let gateway = try await GatewayHarness.start(yaml: Self.yaml(services: services, agents: agents, mode: mode, interval: interval, window: window))
        try await withTeardown {
            try await body(gateway, agents)
        } teardown: {
            await gateway.stop()
            for backend in [agents, slow.backend] { await backend.shutdown() }
        }
    }

    @Test func pausedDecidesNothingUntilResumed() async throws {
        try await Self.withSlowReport(interval: 0.3) { gateway, agents in
            let paused = AdminAPITests.json(try await AdminAPITests.call(gateway, "POST", "/api/brain/optimizer/pause"))
            #expect(paused["paused"] as? Bool == true && paused["mode"] as? String == "act")
            try await Self.load(gateway, "/report/x", clients: 6, seconds: 2.5)
            #expect((try await Self.status(gateway)["decisions"] as? [Any])?.isEmpty == true)
            #expect(agents.requests(matching: "/execute").isEmpty)
            #expect(AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/metrics"))["autonomous_decisions"] as? Int == 0)
            // Resumed, the same traffic is acted on: it was the pause that held it back.
            #expect(AdminAPITests.json(try await AdminAPITests.call(gateway, "POST", "/api/brain/optimizer/resume"))["paused"] as? Bool == false)
            try await Self.load(gateway, "/report/x", clients: 6, seconds: 2)
            #expect(try await Self.waitFor { Self.executions(agents, agent: "optimization-crew").count == 1 })
            // Only platform admins.
            #expect(try await AdminAPITests.call(gateway, "POST", "/api/brain/optimizer/pause", token: TestTokens.user).status == 403)
            #expect(try await AdminAPITests.call(gateway, "GET", "/api/brain/optimizer", token: "").status == 401)
        }
    }

    @Test func aSlowSingleInstanceServiceGetsTheAgentButNoWeightChange() async throws {
        try await Self.withSlowReport { gateway, agents in
            var decisions: [[String: Any]] = []
            for _ in 0..<3 {
                try await Self.load(gateway, "/report/x", clients: 6, seconds: 1.6)
                decisions += try await Self.analyse(gateway)
            }
            #expect(Self.actions(decisions) == ["call_agent"], "\(decisions)")
            #expect(try await Self.waitFor { Self.executions(agents, agent: "optimization-crew").count == 1 })
            #expect(try await Self.weights(gateway, "report").values.sorted() == [1])
        }
    }

    @Test func fastTooManyRequestsAnswersNeverRaiseAnInstancesShare() async throws {
        let agents = try await Self.agents()
        // One instance pushes back at once; the other answers properly, more slowly.
        let pushingBack = try await Instance(status: 429)
        let working = try await Instance(delay: 30)
        let gateway = try await GatewayHarness.start(yaml: Self.yaml(
            services: Self.twoInstances(pushingBack, working, name: "search", balancing: "peak_ewma"), agents: agents,
            extra: ""))
        try await withTeardown {
            // Shorter than the window, so the first answers (the 429s) are still in it.
            try await Self.load(gateway, "/search/x", clients: 4, seconds: 1)
            let share = Double(pushingBack.served) / Double(pushingBack.served + working.served)
            #expect(pushingBack.served > 0 && share < 0.5, "the instance answering 429 took \(share) of the traffic")
            // To the optimiser its 429s are errors with no latency, not fast answers.
            _ = try await Self.analyse(gateway)
            let instances = ((try await Self.status(gateway)["services"] as? [String: Any])?["search"] as? [String: Any])?["instances"] as? [String: [String: Any]]
            let pushed = try #require(instances?[pushingBack.url])
            #expect((pushed["errors"] as? Int ?? 0) > 0 && pushed["errors"] as? Int == pushed["requests"] as? Int && pushed["p95_ms"] is NSNull, "\(pushed)")
            // The balancer keeps avoiding it, so it never gets a larger share.
            let before = (pushingBack.served, working.served)
            try await Self.load(gateway, "/search/x", clients: 4, seconds: 1.6)
            let later = Double(pushingBack.served - before.0) / Double(pushingBack.served - before.0 + working.served - before.1)
            #expect(later <= share, "\(share) → \(later)")
        } teardown: {
            await gateway.stop()
            for backend in [agents, pushingBack.backend, working.backend] { await backend.shutdown() }
        }
    }

    @Test func brainctlShowsPausesResumesAndRunsTheOptimiser() async throws {
        try await Self.withSlowReport(mode: "dry_run") { gateway, _ in
            let admin = ["BRAIN_GATEWAY_URL": gateway.base, "BRAIN_GATEWAY_TOKEN": TestTokens.admin]
            var (code, out, err) = try await BrainctlTests.run(["optimizer", "pause"], environment: admin)
            #expect(code == 0 && out.contains("optimiser paused"), "\(err)")
            (code, out, _) = try await BrainctlTests.run(["optimizer", "status"], environment: admin)
            #expect(code == 0 && out.contains("mode dry_run (paused)") && out.contains("no decisions yet"), "\(out)")
            (code, out, _) = try await BrainctlTests.run(["optimizer", "resume"], environment: admin)
            #expect(code == 0 && out.contains("optimiser resumed"))
            try await Self.load(gateway, "/report/x", clients: 6, seconds: 1.6)
            (code, out, _) = try await BrainctlTests.run(["optimizer", "run"], environment: admin)
            #expect(code == 0 && out.contains("no decisions"), "\(out)")
            try await Self.load(gateway, "/report/x", clients: 6, seconds: 1.6)
            (code, out, err) = try await BrainctlTests.run(["optimizer", "run"], environment: admin)
            #expect(code == 0 && out.hasPrefix("AT") && out.contains("call_agent") && out.contains("recorded"), "\(out) \(err)")
            (code, out, _) = try await BrainctlTests.run(["optimizer", "status"], environment: admin)
            #expect(code == 0 && out.contains("mode dry_run,") && out.contains("report") && out.contains("optimize") && out.contains("call_agent"), "\(out)")
            (code, _, err) = try await BrainctlTests.run(["optimizer", "status"], environment: ["BRAIN_GATEWAY_URL": gateway.base, "BRAIN_GATEWAY_TOKEN": TestTokens.user])
            #expect(code == 1 && err.hasPrefix("brainctl: HTTP 403"), "\(err)")
        }
    }
}
