import BrainApplication
import Foundation
import Testing

/// Active health checks end to end: their own thresholds, readmission that brings traffic back
/// at once, and the answer when every instance is out. Real backends, real probes (1 s apart).
@Suite struct ActiveHealthTests {
    /// Three backends behind one service `svc`, probed every second.
    static func withThreeInstances(
        extra: String = "",
        _ body: (GatewayHarness, [TestBackend]) async throws -> Void
    ) async throws {
        let backends = [try await TestBackend(), try await TestBackend(), try await TestBackend()]
        let yaml = """
            services:
              - name: svc
                instances: [\(backends.map(\.url).joined(separator: ", "))]
                health_path: /health
                rate_limit: {requests: 100000}
            \(extra)
            """
        let gateway = try await GatewayHarness.start(yaml: yaml) { $0.healthCheckIntervalSeconds = 1 }
        try await withTeardown {
            try await body(gateway, backends)
        } teardown: {
            await gateway.stop()
            for backend in backends { await backend.shutdown() }
        }
    }

    static func get(_ gateway: GatewayHarness, _ path: String = "/svc/ok") async throws -> RawResponse {
        try await gateway.send("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    }

    static func waitForInstance(_ gateway: GatewayHarness, _ url: String, status: String, within: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + within
        while try await HealthTests.instanceStatus(gateway, service: "svc", instance: url) != status {
            guard ContinuousClock.now < deadline else {
                Issue.record("\(url) did not become \(status)")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test func probesTakeAnInstanceOutWhateverTheBreakerTolerates() async throws {
        try await Self.withThreeInstances(extra: """
                circuit_breaker: {failure_threshold: 1000}
                health_check: {unhealthy_threshold: 2, healthy_threshold: 2}
            """) { gateway, backends in
            let sick = backends[1]
            sick.healthy = false
            try await Self.waitForInstance(gateway, sick.url, status: "down")
            let before = sick.requests.count
            for _ in 0..<30 { #expect(try await Self.get(gateway).status == 200) }
            #expect(sick.requests.count == before, "a probed-out instance received traffic")

            // `healthy_threshold: 2`: one good probe is not enough, two bring it back.
            sick.healthy = true
            try await Self.waitForInstance(gateway, sick.url, status: "healthy")
            let events = gateway.gateway.events.events(type: "ServiceHealthChanged").count
            #expect(events >= 2)
            var served = 0
            for _ in 0..<30 where try await Self.get(gateway).status == 200 { served += 1 }
            #expect(served == 30)
            #expect(sick.requests.count > before, "the instance did not get traffic back")
        }
    }

    @Test func aReadmittedInstanceGetsTrafficWithinASecond() async throws {
        try await Self.withThreeInstances { gateway, backends in
            // Warm every loop's balancer with real latency samples.
            for _ in 0..<30 { _ = try await Self.get(gateway) }
            let port = backends[1].port
            let url = backends[1].url
            await backends[1].shutdown()
            // Requests keep coming while it is down: the balancer charges it the failure penalty.
            // (Some may fail: the retry budget allows few retries in a burst.)
            for _ in 0..<30 { _ = try await Self.get(gateway) }
            try await Self.waitForInstance(gateway, url, status: "down")

            let restarted = try await TestBackend(port: port)
            defer { Task { await restarted.shutdown() } }
            try await Self.waitForInstance(gateway, url, status: "healthy")
            // Within a second of readmission it takes a share of the traffic.
            let started = ContinuousClock.now
            let othersBefore = backends[0].requests.count + backends[2].requests.count
            for _ in 0..<60 {
                let r = try await Self.get(gateway)
                #expect(r.status == 200, "\(r.status) \(r.text)")
                if ContinuousClock.now - started > .seconds(1) { break }
            }
            let others = backends[0].requests.count + backends[2].requests.count
            // Typically 12-19 of 60 here; a slow first answer from the restarted server can cost
            // it most of the second (peak EWMA adopts a slower sample at once), so the bound is
            // "some", which the penalty it carried before this fix never allowed (0 every time).
            #expect(restarted.requests.count >= 1, "readmitted instance got \(restarted.requests.count) requests in its first second (the others: \(others - othersBefore))")
        }
    }

    @Test func everyInstanceOutAnswers503WithRetryAfterNot502() async throws {
        try await Self.withThreeInstances(extra: "    retry: {retries: 0}\n") { gateway, backends in
            let urls = backends.map(\.url)
            for backend in backends { await backend.shutdown() }
            for url in urls { try await Self.waitForInstance(gateway, url, status: "down") }
            for _ in 0..<5 {
                let r = try await Self.get(gateway)
                #expect(r.status == 503)
                #expect(Int(r.header("Retry-After") ?? "") ?? 0 >= 1)
                let body = try #require(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
                #expect(body["error"] as? String == "service_unavailable")
            }
        }
    }

    @Test func upstreamFailuresReadAsPlainWords() async throws {
        let refusing = RefusingPort()
        let backend = try await TestBackend()
        let yaml = """
            services:
              - {name: gone, url: 'http://127.0.0.1:\(refusing.port)', retry: {retries: 0}}
              - {name: wrongpath, url: '\(backend.url)', health_path: /missing/status/404}
            """
        let gateway = try await GatewayHarness.start(yaml: yaml) { $0.healthCheckIntervalSeconds = 1 }
        try await withTeardown {
            let refused = try await gateway.send("GET /gone/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(refused.status == 502)
            let detail = (try JSONSerialization.jsonObject(with: Data(refused.body)) as? [String: Any])?["detail"] as? String
            #expect(detail == "could not connect to the upstream service: connection refused")

            let deadline = ContinuousClock.now + .seconds(10)
            var errors: [String: String] = [:]
            while errors.count < 2, ContinuousClock.now < deadline {
                let json = try await HealthTests.health(gateway)
                for name in ["gone", "wrongpath"] {
                    let instances = ((json["services"] as? [String: Any])?[name] as? [String: Any])?["instances"] as? [String: Any]
                    if let error = (instances?.values.first as? [String: Any])?["last_error"] as? String { errors[name] = error }
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(errors["gone"] == "connection refused")
            #expect(errors["wrongpath"] == "answered HTTP 404")
        } teardown: {
            await gateway.stop()
            await backend.shutdown()
        }
        _ = refusing
    }
}
