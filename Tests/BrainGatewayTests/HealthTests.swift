import BrainApplication
import Foundation
import Testing

/// The background monitor and the health endpoints.
@Suite struct HealthTests {
    static func health(_ gateway: GatewayHarness) async throws -> [String: Any] {
        let r = try await gateway.send("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(r.status == 200)
        return try #require(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
    }

    static func serviceStatus(_ json: [String: Any], _ name: String) -> String? {
        ((json["services"] as? [String: Any])?[name] as? [String: Any])?["status"] as? String
    }

    /// One instance's status on `/health` (instances are keyed by their URL).
    static func instanceStatus(_ gateway: GatewayHarness, service: String, instance: String) async throws -> String? {
        let json = try await health(gateway)
        let instances = ((json["services"] as? [String: Any])?[service] as? [String: Any])?["instances"] as? [String: Any]
        return (instances?[instance] as? [String: Any])?["status"] as? String
    }

    static func waitFor(_ gateway: GatewayHarness, service: String, status: String, within: Duration = .seconds(10)) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + within
        while true {
            let json = try await health(gateway)
            if serviceStatus(json, service) == status || ContinuousClock.now > deadline { return json }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    @Test func healthGoesDownAndComesBackUp() async throws {
        try await withGateway(services: { b in
            "services:\n  - {name: svc, url: \(b.url), health_path: /health, circuit_breaker: {failure_threshold: 2, open_seconds: 60}}\n"
        }, configure: { $0.healthCheckIntervalSeconds = 1 }) { gateway, backend in
            // Unprobed services count as healthy (with no response time yet): wait for a probe.
            var json = try await Self.health(gateway)
            let probed = ContinuousClock.now + .seconds(10)
            while ((json["services"] as? [String: Any])?["svc"] as? [String: Any])?["response_time_ms"] is NSNull, ContinuousClock.now < probed {
                try await Task.sleep(for: .milliseconds(50))
                json = try await Self.health(gateway)
            }
            #expect(json["status"] as? String == "healthy")
            let service = try #require((json["services"] as? [String: Any])?["svc"] as? [String: Any])
            #expect(service["response_time_ms"] is Double)
            #expect((json["timestamp"] as? String)?.contains("T") == true)

            backend.healthy = false
            json = try await Self.waitFor(gateway, service: "svc", status: "degraded")
            // A failed probe has no response time, and says so with null.
            let degraded = try #require((json["services"] as? [String: Any])?["svc"] as? [String: Any])
            #expect(degraded.keys.contains("response_time_ms"))
            #expect(degraded["response_time_ms"] is NSNull)
            #expect(Self.serviceStatus(json, "svc") == "degraded")
            #expect(json["status"] as? String == "degraded")
            json = try await Self.waitFor(gateway, service: "svc", status: "down")
            #expect(Self.serviceStatus(json, "svc") == "down")

            backend.healthy = true
            json = try await Self.waitFor(gateway, service: "svc", status: "healthy")
            #expect(Self.serviceStatus(json, "svc") == "healthy")
            #expect(json["status"] as? String == "healthy")

            let transitions = gateway.gateway.events.events(type: "ServiceHealthChanged").map { event -> String in
                if case .serviceHealthChanged(_, _, let from, let to) = event.event { return "\(from.rawValue)>\(to.rawValue)" }
                return ""
            }
            #expect(transitions == ["healthy>degraded", "degraded>down", "down>healthy"])
        }
    }

    @Test func healthEndpointNeverProbesPerCall() async throws {
        try await withGateway(services: { oneService($0) }, configure: { $0.healthCheckIntervalSeconds = 3600 }) { gateway, backend in
            try await Task.sleep(for: .milliseconds(300))
            let probesBefore = backend.healthProbes
            for _ in 0..<20 { _ = try await Self.health(gateway) }
            #expect(backend.healthProbes == probesBefore)
            #expect(probesBefore <= 1)
        }
    }

    @Test func liveAndReadyEndpoints() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, _ in
            let live = try await gateway.send("GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(live.status == 200)
            #expect(live.text == "{\"status\":\"alive\"}")
            let ready = try await gateway.send("GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(ready.status == 200)
            #expect(ready.text.contains("\"status\":\"ready\""))
        }
    }

    @Test func readinessFailsWhenStorageIsUnreachable() async throws {
        let directory = NSTemporaryDirectory() + "brain-ready-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try await withGateway(services: { oneService($0) }, configure: { $0.storage = .sqlite(path: directory + "/brain.sqlite") }) { gateway, _ in
            let before = try await gateway.send("GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(before.status == 200)
            // The store's directory disappears under the running gateway.
            try FileManager.default.removeItem(atPath: directory)
            let ready = try await gateway.send("GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(ready.status == 503)
            #expect(ready.text.contains("unreachable"))
        }
    }

    @Test func anUnopenableStoreStopsStartup() async throws {
        await #expect(throws: (any Error).self) {
            try await GatewayHarness.start(yaml: "services: []", configure: { $0.storage = .sqlite(path: "/nonexistent-dir/brain.sqlite") })
        }
    }

    @Test func aFailedRequestDegradesTheService() async throws {
        let dead = RefusingPort()
        let gateway = try await GatewayHarness.start(yaml: "services:\n  - {name: gone, url: http://127.0.0.1:\(dead.port)}\n")
        _ = try await gateway.send("GET /gone/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let json = try await Self.health(gateway)
        #expect(Self.serviceStatus(json, "gone") == "degraded")
        await gateway.stop()
        withExtendedLifetime(dead) {}
    }
}
