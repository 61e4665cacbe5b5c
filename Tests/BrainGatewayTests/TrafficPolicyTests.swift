import BrainApplication
import BrainDomain
import Foundation
import Testing

/// Circuit breakers, ejection, balancing and retries, end to end through real sockets.
@Suite struct CircuitBreakerEndToEndTests {
    static func get(_ gateway: GatewayHarness, _ path: String, token: String = TestTokens.user) async throws -> RawResponse {
        try await gateway.send("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", token: token)
    }

    static func post(_ gateway: GatewayHarness, _ path: String) async throws -> RawResponse {
        try await gateway.send("POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    }

    static func json(_ r: RawResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]) ?? [:]
    }

    static func eventTypes(_ gateway: GatewayHarness) -> [String] {
        gateway.gateway.events.events(limit: 1000).map(\.event.typeName).filter { $0.hasPrefix("Circuit") }
    }

    @Test func opensAfterConsecutiveFailuresProbesHalfOpenAndCloses() async throws {
        try await withGateway(services: { b in
            "services:\n  - {name: svc, url: \(b.url), circuit_breaker: {failure_threshold: 3, open_seconds: 3}}\n"
        }) { gateway, backend in
            // Two failures, a success (resets the count), then three in a row.
            for path in ["/svc/status/500", "/svc/status/503", "/svc/ok", "/svc/status/500", "/svc/status/502", "/svc/status/500"] {
                let r = try await Self.get(gateway, path)
                #expect(r.status == (path == "/svc/ok" ? 200 : Int(path.split(separator: "/").last!)!))
            }
            #expect(backend.requests.count == 6)
            // Open: answered by the gateway, the upstream is not touched. (Open times are a few
            // seconds so a stall of the machine running the tests in parallel does not outlast them.)
            let refused = try await Self.get(gateway, "/svc/ok")
            #expect(refused.status == 503)
            #expect(["1", "2", "3"].contains(refused.header("Retry-After") ?? ""))
            #expect(Self.json(refused)["error"] as? String == "service_unavailable")
            #expect(Self.json(refused)["request_id"] as? String == refused.header("X-Request-ID"))
            #expect(backend.requests.count == 6)
            #expect(Self.eventTypes(gateway) == ["CircuitOpened"])
            #expect(gateway.gateway.counters.circuitBreakerActivations == 1)
            let health = try await HealthTests.health(gateway)
            #expect(HealthTests.serviceStatus(health, "svc") == "down")

            // Half-open after the open time: one probe; it fails, so the breaker reopens for twice as long.
            try await Task.sleep(for: .milliseconds(3100))
            #expect(try await Self.get(gateway, "/svc/status/500").status == 500)
            let reopened = try await Self.get(gateway, "/svc/ok")
            #expect(reopened.status == 503)
            #expect(["4", "5", "6"].contains(reopened.header("Retry-After") ?? ""))
            #expect(gateway.gateway.counters.circuitBreakerActivations == 2)

            // The next probe succeeds: closed, healthy, events recorded.
            try await Task.sleep(for: .milliseconds(6100))
            #expect(try await Self.get(gateway, "/svc/ok").status == 200)
            #expect(try await Self.get(gateway, "/svc/ok").status == 200)
            #expect(Self.eventTypes(gateway) == ["CircuitOpened", "CircuitOpened", "CircuitClosed"])
            let healed = try await HealthTests.health(gateway)
            #expect(HealthTests.serviceStatus(healed, "svc") == "healthy")
        }
    }

    @Test func connectFailuresOpenTheBreakerToo() async throws {
        let dead = RefusingPort()
        let gateway = try await GatewayHarness.start(yaml: "services:\n  - {name: svc, url: http://127.0.0.1:\(dead.port)}\n")
        // POST is never retried: exactly one attempt (one failure) per request.
        for _ in 0..<5 { #expect(try await Self.post(gateway, "/svc/x").status == 502) }
        let r = try await Self.post(gateway, "/svc/x")
        #expect(r.status == 503)
        // The open time left, rounded up: 60 unless the machine stalled between the two requests.
        #expect((55...60).contains(Int(r.header("Retry-After") ?? "") ?? 0))
        await gateway.stop()
        withExtendedLifetime(dead) {}
    }

    @Test func timeoutsAndResetsCountAsFailures() async throws {
        try await withGateway(services: { b in
            "services:\n  - {name: svc, url: \(b.url), timeout_ms: 200, circuit_breaker: {failure_threshold: 3, open_seconds: 60}}\n"
        }) { gateway, backend in
            // A hanging upstream (504: timeouts are not retried) and a reset before the head
            // (502: POST is not retried) are one failure each…
            #expect(try await Self.get(gateway, "/svc/hang").status == 504)
            #expect(try await Self.post(gateway, "/svc/reset").status == 502)
            // …and one more failure opens the breaker.
            #expect(try await Self.post(gateway, "/svc/reset").status == 502)
            let r = try await Self.get(gateway, "/svc/ok")
            #expect(r.status == 503)
            #expect(backend.requests.count == 3)
        }
    }

    @Test func theEjectionCapKeepsPartOfTheServiceInRotation() async throws {
        let dead = (RefusingPort(), RefusingPort())
        func run(percent: Int) async throws -> (statuses: Set<Int>, ejected: Int) {
            let gateway = try await GatewayHarness.start(yaml: """
                services:
                  - name: svc
                    instances: [http://127.0.0.1:\(dead.0.port), http://127.0.0.1:\(dead.1.port)]
                    load_balancing: round_robin
                    circuit_breaker: {failure_threshold: 2, open_seconds: 60, max_ejection_percent: \(percent)}
                """)
            var statuses = Set<Int>()
            for _ in 0..<12 { statuses.insert(try await Self.post(gateway, "/svc/x").status) }
            let service = gateway.gateway.registry.directory.services[0]
            let states = try #require(gateway.gateway.breakers.existingBreakers(for: service)).breakerStates
            await gateway.stop()
            return (statuses, states.filter { if case .closed = $0 { false } else { true } }.count)
        }
        let capped = try await run(percent: 50)
        #expect(capped.ejected == 1)
        #expect(capped.statuses == [502])
        let uncapped = try await run(percent: 100)
        #expect(uncapped.ejected == 2)
        #expect(uncapped.statuses == [502, 503])
        withExtendedLifetime(dead) {}
    }

    @Test func theActiveMonitorBringsAnEjectedInstanceBack() async throws {
        // Open for 5 minutes: only the health probe can bring the instance back within the test.
        try await withGateway(services: { b in
            "services:\n  - {name: svc, url: \(b.url), circuit_breaker: {failure_threshold: 2, open_seconds: 300}}\n"
        }, configure: { $0.healthCheckIntervalSeconds = 1 }) { gateway, backend in
            // Failing traffic and a failing health endpoint: nothing brings it back yet.
            backend.healthy = false
            backend.failure = .status500
            // Two failures open it — live ones, or failed probes if the 1 s monitor gets there
            // first on a loaded machine: either way the instance's own 500s, then 503s.
            var seen: [Int] = []
            while seen.last != 503 && seen.count < 6 { seen.append(try await Self.get(gateway, "/svc/a").status) }
            #expect(seen.last == 503 && seen.dropLast().allSatisfy { $0 == 500 } && seen.count <= 3, "\(seen)")
            try await Task.sleep(for: .milliseconds(1500))
            #expect(try await Self.get(gateway, "/svc/a").status == 503)
            backend.failure = nil
            backend.healthy = true
            // The /health probe answers 200: within a probe interval live traffic is admitted
            // again (as a half-open probe), and its success closes the breaker.
            var status = 0
            let deadline = ContinuousClock.now + .seconds(5)
            while status != 200 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                status = try await Self.get(gateway, "/svc/a").status
            }
            #expect(status == 200)
            #expect(Self.eventTypes(gateway) == ["CircuitOpened", "CircuitClosed"])
        }
    }

    @Test func instancesTheMonitorFindsDownGetNoTrafficUntilTheyRecover() async throws {
        let a = try await TestBackend()
        let b = try await TestBackend()
        let gateway = try await GatewayHarness.start(yaml: """
            services:
              - name: svc
                instances: [\(a.url), \(b.url)]
                load_balancing: round_robin
                circuit_breaker: {failure_threshold: 2}
                rate_limit: {requests: 100000, window_seconds: 60}
            """, configure: { $0.healthCheckIntervalSeconds = 1 })
        a.healthy = false
        // Two failed probes (≈ 2 s) mark `a` down. Wait for the gateway to say so: the backend
        // counting a probe it answered is not yet the gateway having read that answer.
        let deadline = ContinuousClock.now + .seconds(10)
        while try await HealthTests.instanceStatus(gateway, service: "svc", instance: a.url) != "down" && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await HealthTests.instanceStatus(gateway, service: "svc", instance: a.url) == "down")
        let before = a.requests.count
        for _ in 0..<20 { #expect(try await Self.get(gateway, "/svc/x").status == 200) }
        #expect(a.requests.count == before)
        a.healthy = true
        _ = try await HealthTests.waitFor(gateway, service: "svc", status: "healthy")
        for _ in 0..<20 { #expect(try await Self.get(gateway, "/svc/x").status == 200) }
        #expect(a.requests.count - before >= 8)
        await gateway.stop()
        await a.shutdown()
        await b.shutdown()
    }
}

@Suite struct LoadBalancingEndToEndTests {
    @Test func peakEWMASendsMostTrafficToTheFasterInstance() async throws {
        let slow = try await TestBackend()
        let fast = try await TestBackend()
        slow.delayMilliseconds = 40
        let gateway = try await GatewayHarness.start(yaml: """
            services:
              - name: svc
                instances: [\(slow.url), \(fast.url)]
                rate_limit: {requests: 100000, window_seconds: 60}
            """)
        for _ in 0..<100 { #expect(try await CircuitBreakerEndToEndTests.get(gateway, "/svc/x").status == 200) }
        #expect(fast.requests.count >= 80, "slow \(slow.requests.count), fast \(fast.requests.count)")
        #expect(slow.requests.count >= 1)
        await gateway.stop()
        await slow.shutdown()
        await fast.shutdown()
    }

    @Test func weightsSplitTrafficAndChangeAtRuntime() async throws {
        let a = try await TestBackend()
        let b = try await TestBackend()
        let gateway = try await GatewayHarness.start(yaml: """
            services:
              - name: svc
                instances: [{url: \(a.url), weight: 3}, \(b.url)]
                load_balancing: round_robin
                rate_limit: {requests: 100000, window_seconds: 60}
            """)
        for _ in 0..<200 { _ = try await CircuitBreakerEndToEndTests.get(gateway, "/svc/x") }
        // Each event loop runs its own exact 3:1 sequence: the total is within a few requests.
        #expect(abs(a.requests.count - 150) <= 6, "a \(a.requests.count), b \(b.requests.count)")
        let instance = try UpstreamInstance(url: a.url)
        try gateway.gateway.registry.setWeight(1, of: instance, service: try ServiceName("svc"))
        let (a0, b0) = (a.requests.count, b.requests.count)
        for _ in 0..<200 { _ = try await CircuitBreakerEndToEndTests.get(gateway, "/svc/x") }
        #expect(abs((a.requests.count - a0) - 100) <= 6, "a \(a.requests.count - a0), b \(b.requests.count - b0)")
        await gateway.stop()
        await a.shutdown()
        await b.shutdown()
    }

    @Test func leastRequestAvoidsTheBusyInstance() async throws {
        let busy = try await TestBackend()
        let idle = try await TestBackend()
        busy.delayMilliseconds = 500
        let gateway = try await GatewayHarness.start(yaml: """
            services:
              - name: svc
                instances: [\(busy.url), \(idle.url)]
                load_balancing: least_request
                rate_limit: {requests: 100000, window_seconds: 60}
            """)
        // Six clients, 60 requests: an instance with a request outstanding loses every
        // comparison with an idle one, so the slow instance gets only a trickle — about one
        // request per loop per 500 ms — where round robin would give it half (30).
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    for _ in 0..<10 {
                        let status = try await CircuitBreakerEndToEndTests.get(gateway, "/svc/x").status
                        #expect(status == 200)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(busy.requests.count + idle.requests.count == 60)
        #expect(busy.requests.count <= 24, "busy \(busy.requests.count), idle \(idle.requests.count)")
        await gateway.stop()
        await busy.shutdown()
        await idle.shutdown()
    }
}

@Suite struct RetryBudgetEndToEndTests {
    @Test func retriesStayWithinTheBudget() async throws {
        let good = try await TestBackend()
        let dead = RefusingPort()
        let gateway = try await GatewayHarness.start(yaml: """
            services:
              - name: svc
                instances: [http://127.0.0.1:\(dead.port), \(good.url)]
                load_balancing: round_robin
                circuit_breaker: {failure_threshold: 100000}
                retry: {retries: 1, backoff_ms: 1, budget_percent: 20, budget_min_per_second: 0}
                rate_limit: {requests: 100000, window_seconds: 60}
            """)
        var statuses: [Int] = []
        for _ in 0..<100 {
            let r = try await CircuitBreakerEndToEndTests.get(gateway, "/svc/x")
            statuses.append(r.status)
            if r.status != 200 { #expect(CircuitBreakerEndToEndTests.json(r)["error"] as? String == "bad_gateway") }
        }
        let counters = gateway.gateway.counters
        let failed = statuses.filter { $0 == 502 }.count
        #expect(statuses.allSatisfy { $0 == 200 || $0 == 502 })
        // At most 20 % of the requests were retried; the rest of the dead instance's share failed.
        #expect(counters.retriesSent >= 1 && counters.retriesSent <= 22, "sent \(counters.retriesSent)")
        #expect(failed == counters.retriesRefusedByBudget)
        #expect(failed >= 1)
        #expect(good.requests.count == statuses.filter { $0 == 200 }.count)
        await gateway.stop()
        await good.shutdown()
        withExtendedLifetime(dead) {}
    }
}
