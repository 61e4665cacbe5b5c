import Testing
@testable import BrainDomain

@Suite struct ServiceNameTests {
    @Test func acceptsDNSLabelNames() throws {
        #expect(try ServiceName("ai-agents").value == "ai-agents")
        #expect(try ServiceName("svc2").value == "svc2")
    }

    @Test(arguments: ["api", "health", "metrics", "graphql", "ws", "docs", "dashboard", "openapi.json", ".well-known"])
    func reservedNamesAreRefused(_ name: String) {
        #expect(throws: (any Error).self) { try ServiceName(name) }
    }

    @Test(arguments: ["", "Upper", "1abc", "a_b", "a.b", "a/b", "ends-", String(repeating: "a", count: 64), "é"])
    func malformedNamesAreRefused(_ name: String) {
        #expect(throws: (any Error).self) { try ServiceName(name) }
    }
}

@Suite struct UpstreamInstanceTests {
    @Test func parsesSchemesHostsAndPorts() throws {
        let a = try UpstreamInstance(url: "http://127.0.0.1:8008")
        #expect(a.scheme == .http && a.host == "127.0.0.1" && a.port == 8008)
        let b = try UpstreamInstance(url: "https://api.internal")
        #expect(b.port == 443 && b.authority == "api.internal")
        let c = try UpstreamInstance(url: "http://[::1]:9000/")
        #expect(c.host == "::1" && c.port == 9000 && c.authority == "[::1]:9000")
        for v6 in ["[::]", "[1::]", "[fe80::1:2]", "[1:2:3:4:5:6:7:8]"] { #expect(throws: Never.self) { try UpstreamInstance(url: "http://" + v6) } }
    }

    @Test(arguments: [
        "ftp://x", "http://", "http://h:0", "http://h:70000", "http://h/path", "http://u@h", "http://h?q", "127.0.0.1:80",
        "http://h:080", "http://h:+80", "http://a b", "http://a\u{1}b", "http://-a", "http://a.", "http://[.]", "http://[:]",
        "http://[1:2:3:4:5:6:7:8:9]", "http://[1::2::3]", "http://[12345::]",
    ])
    func refusesAnythingButSchemeHostPort(_ text: String) {
        #expect(throws: UpstreamInstance.InvalidInstance.self) { try UpstreamInstance(url: text) }
    }
}

@Suite struct ServiceRouteTests {
    let instance = UpstreamInstance(scheme: .http, host: "127.0.0.1", port: 8008)

    @Test func registrationRecordsEvents() throws {
        var service = try ServiceRoute(
            name: ServiceName("ai-agents"), instances: [instance], basePath: BasePath("/api/v1/agents"),
            routes: [RouteDefinition(pattern: try RoutePattern("/campaigns/{id}"), methods: [.get])])
        let events = service.drainEvents()
        #expect(events.map(\.typeName) == ["ServiceRegistered", "RouteRegistered"])
        #expect(service.drainEvents().isEmpty)
        service.recordHealth(.degraded)
        service.recordHealth(.degraded)
        #expect(service.drainEvents() == [.serviceHealthChanged(service: service.name, tenant: nil, from: .healthy, to: .degraded)])
    }

    @Test func invariantsAreEnforced() throws {
        let name = try ServiceName("x")
        #expect(throws: ServiceRoute.InvariantViolation.invalid(field: "instances", reason: "at least one instance is required")) {
            try ServiceRoute(name: name, instances: [], basePath: .root)
        }
        #expect { try ServiceRoute(name: name, instances: [instance, instance], basePath: .root) } throws: { ($0 as? ServiceRoute.InvariantViolation)?.field == "instances" }
        #expect { try ServiceRoute(name: name, instances: [instance], basePath: .root, timeoutMilliseconds: 0) } throws: { ($0 as? ServiceRoute.InvariantViolation)?.field == "timeout_ms" }
        #expect { try ServiceRoute(name: name, instances: [instance], basePath: .root, circuitBreaker: .init(failureThreshold: 0, openSeconds: 60)) } throws: {
            ($0 as? ServiceRoute.InvariantViolation)?.field == "circuit_breaker.failure_threshold"
        }
    }

    @Test func overlappingRoutesAreRefused() throws {
        let pattern = try RoutePattern("/items/{id}")
        var service = try ServiceRoute(name: ServiceName("x"), instances: [instance], basePath: .root,
                                       routes: [RouteDefinition(pattern: pattern, methods: [.get])])
        #expect(throws: ServiceRoute.InvariantViolation.self) { try service.register(RouteDefinition(pattern: pattern, methods: [.get, .post])) }
        #expect(throws: ServiceRoute.InvariantViolation.self) { try service.register(RouteDefinition(pattern: pattern)) }
        try service.register(RouteDefinition(pattern: pattern, methods: [.delete]))
        #expect(service.routes.count == 2)
    }

    @Test func basePathIsNormalised() throws {
        #expect(try BasePath("/").prefix == "")
        #expect(try BasePath("/api/v1/").prefix == "/api/v1")
        #expect(throws: BasePath.InvalidBasePath.self) { try BasePath("api") }
        #expect(throws: BasePath.InvalidBasePath.self) { try BasePath("/a/../b") }
        #expect(throws: BasePath.InvalidBasePath.self) { try BasePath("/a//b") }
    }
}
