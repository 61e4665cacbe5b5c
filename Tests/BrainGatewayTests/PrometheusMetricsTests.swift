import BrainInfrastructure
import Foundation
import Testing

/// `/metrics`: Prometheus text with the values known traffic must produce, bounded labels.
@Suite struct PrometheusMetricsTests {
    /// The value of the sample whose name is `name` and whose labels include all of `labels`.
    static func sample(_ text: String, _ name: String, _ labels: [String: String]) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            let head = line.split(separator: " ").dropLast().joined(separator: " ")
            guard labels.allSatisfy({ head.contains("\($0.key)=\"\($0.value)\"") }) else { continue }
            if head.hasPrefix(name + "{") || labels.isEmpty { return line.split(separator: " ").last.flatMap { Double($0) } }
        }
        return nil
    }

    @Test func knownTrafficProducesKnownValues() async throws {
        try await withGateway(services: { b in
            "services:\n  - {name: svc, url: \(b.url), circuit_breaker: {failure_threshold: 100}}\n  - {name: tight, url: \(b.url), rate_limit: {requests: 1, window_seconds: 3600}}\n"
        }) { gateway, backend in
            for _ in 0..<2 { _ = try await gateway.send("GET /tight/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") }
            for _ in 0..<3 { #expect(try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status == 200) }
            #expect(try await gateway.send("GET /svc/status/503 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status == 503)
            #expect(try await gateway.send("PURGE /svc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status == 200)
            #expect(try await gateway.send("GET /nosuch/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status == 404)
            #expect(try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", token: "garbage").status == 401)

            // Public, like /health.
            let scrape = try await RawHTTP.send(port: gateway.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(scrape.status == 200)
            #expect(scrape.header("Content-Type")?.hasPrefix("text/plain") == true)
            let text = scrape.text
            let total = "brain_gateway_requests_total"
            #expect(Self.sample(text, total, ["service": "svc", "method": "GET", "status": "200"]) == 3)
            #expect(Self.sample(text, total, ["service": "svc", "method": "GET", "status": "503"]) == 1)
            // An odd method and an unknown service each collapse into one label value.
            #expect(Self.sample(text, total, ["service": "svc", "method": "OTHER", "status": "200"]) == 1)
            #expect(Self.sample(text, total, ["service": "unknown", "method": "GET", "status": "404"]) == 1)
            #expect(Self.sample(text, total, ["service": "unknown", "method": "GET", "status": "401"]) == 1)
            #expect(!text.contains("nosuch") && !text.contains("PURGE"))
            #expect(Self.sample(text, "brain_gateway_request_duration_seconds_count", ["service": "svc"]) == 5)
            #expect(Self.sample(text, "brain_gateway_request_duration_seconds_bucket", ["service": "svc", "le": "+Inf"]) == 5)
            #expect(Self.sample(text, "brain_gateway_upstream_duration_seconds_count", ["service": "svc"]) == 5)
            #expect(Self.sample(text, "brain_gateway_requests_in_flight", [:]) == 0)
            let instance = backend.url
            #expect(Self.sample(text, "brain_gateway_circuit_breaker_state", ["service": "svc", "instance": instance]) == 0)
            #expect(Self.sample(text, "brain_gateway_instance_health", ["service": "svc", "instance": instance]) != nil)
            #expect(Self.sample(text, "brain_gateway_service_health", ["service": "svc"]) != nil)
            #expect(Self.sample(text, "brain_gateway_cache_lookups_total", ["service": "svc", "result": "miss"]) == 4)  // the four GETs

            // The shipped Grafana dashboard queries only metrics the gateway exposes.
            let dashboard = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("deploy/grafana-dashboard.json")
            let json = try String(contentsOf: dashboard, encoding: .utf8)
            let names = Set(json.matches(of: /brain_gateway_[a-z_]+/).map { String($0.output) }
                .map { $0.replacing(/_(bucket|count|sum)$/, with: "") })
            #expect(names.count >= 8)
            for name in names { #expect(text.contains("# TYPE \(name) "), "\(name) is not exposed") }
        }
    }

    @Test func rateLimitedRequestsAreCounted() async throws {
        try await withGateway(services: { b in "services:\n  - {name: svc, url: \(b.url), rate_limit: {requests: 1, window_seconds: 3600}}\n" }) { gateway, _ in
            #expect(try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status == 200)
            #expect(try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status == 429)
            let text = try await RawHTTP.send(port: gateway.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").text
            #expect(Self.sample(text, "brain_gateway_rate_limited_total", ["service": "svc"]) == 1)
            #expect(Self.sample(text, "brain_gateway_requests_total", ["service": "svc", "method": "GET", "status": "429"]) == 1)
        }
    }

    /// Breaker and health gauges are read at scrape time: an open breaker reads 2, and the
    /// series of a removed service disappear with it.
    @Test func pointInTimeGaugesFollowTheRegistry() async throws {
        let dead = RefusingPort()
        try await withGateway(services: { b in "services:\n  - {name: svc, url: \(b.url)}\n" }) { gateway, backend in
            let deadURL = "http://127.0.0.1:\(dead.port)"
            let document = #"{"name": "later", "instances": ["\#(deadURL)"], "circuit_breaker": {"failure_threshold": 1, "open_seconds": 300}}"#
            #expect(try await AdminAPITests.call(gateway, "POST", "/api/brain/services", body: document).status == 201)
            // Refused (502), or refused and its retry found the breaker open (503).
            #expect([502, 503].contains(try await gateway.send("GET /later/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status))
            let before = try await RawHTTP.send(port: gateway.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").text
            #expect(Self.sample(before, "brain_gateway_circuit_breaker_state", ["service": "later", "instance": deadURL]) == 2)
            #expect(Self.sample(before, "brain_gateway_service_health", ["service": "later"]) == 0)
            #expect(Self.sample(before, "brain_gateway_circuit_breaker_state", ["service": "svc", "instance": backend.url]) == 0)

            #expect(try await AdminAPITests.call(gateway, "DELETE", "/api/brain/services/later").status == 204)
            let after = try await RawHTTP.send(port: gateway.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").text
            #expect(Self.sample(after, "brain_gateway_circuit_breaker_state", ["service": "later"]) == nil)
            #expect(Self.sample(after, "brain_gateway_instance_health", ["service": "later"]) == nil)
            #expect(Self.sample(after, "brain_gateway_service_health", ["service": "later"]) == nil)
            #expect(Self.sample(after, "brain_gateway_service_health", ["service": "svc"]) != nil)
            #expect(after.contains("# TYPE brain_gateway_circuit_breaker_state gauge"))
        }
        withExtendedLifetime(dead) {}
    }

    @Test func scrapeTimeLabelValuesAreEscaped() {
        var family = GaugeFamilyText(name: "brain_gateway_example", help: "An example.")
        family.sample(["service": "a", "instance": "say \"hi\"\\\nbye"], 0.5)
        family.sample([:], 2)
        #expect(String(decoding: family.bytes, as: UTF8.self) == """
            # HELP brain_gateway_example An example.
            # TYPE brain_gateway_example gauge
            brain_gateway_example{service="a",instance="say \\"hi\\"\\\\\\nbye"} 0.5
            brain_gateway_example 2.0

            """)
    }
}
