import BrainApplication
import BrainDomain
import BrainInfrastructure
import Testing

/// Environment and YAML parsing in-process (the executable's behaviour is in ProcessLifecycleTests).
@Suite struct ConfigurationTests {
    @Test func environmentDefaultsMatchTheContract() throws {
        let s = try EnvironmentSettingsReader(environment: [:]).read()
        #expect(s.host == "0.0.0.0" && s.port == 8001)
        #expect(s.logLevel == .info)
        #expect(s.configPath == nil)
        #expect(s.storage == .sqlite(path: "brain-gateway.sqlite"))
        #expect(s.redisURL == nil)
        #expect(s.healthCheckIntervalSeconds == 30)
        #expect(s.serviceRegistryEnabled && s.autoDiscovery)
        #expect(s.limits.maxHeaderBytes == 32 * 1024 && s.limits.maxHeaderCount == 100)
        #expect(s.limits.maxBodyBytes == 1 << 30 && s.limits.idleTimeoutSeconds == 60 && s.limits.headerTimeoutSeconds == 10)
    }

    @Test func databaseURLForms() throws {
        func storage(_ url: String) throws -> StorageLocation { try EnvironmentSettingsReader(environment: ["DATABASE_URL": url]).read().storage }
        #expect(try storage("sqlite:data/gw.sqlite") == .sqlite(path: "data/gw.sqlite"))
        #expect(try storage("sqlite:///var/lib/gw.sqlite") == .sqlite(path: "/var/lib/gw.sqlite"))
        #expect(try storage("postgresql://u:p@h/db") == .postgres(url: "postgresql://u:p@h/db"))
        #expect(try storage("postgresql://u:p@h/db").description.contains("p@h") == false)
        #expect(throws: ConfigurationError.self) { try storage("mysql://x") }
    }

    @Test func yamlDefaultsApplyAndServicesOverrideThem() throws {
        let file = try ServiceFileLoader().load(yaml: """
            defaults:
              timeout_ms: 1234
              rate_limit: {requests: 7, window_seconds: 9}
              circuit_breaker: {failure_threshold: 3}
            auth:
              public_paths: [/svc/public]
              issuer: https://issuer.example
            services:
              - name: a
                url: http://127.0.0.1:1
              - name: b
                instances: [http://127.0.0.1:2, https://b.internal]
                base_path: /v2/
                health_path: /ping
                tenant_id: 6F9619FF-8B86-D011-B42D-00C04FC964FF
                timeout_ms: 50
                routes:
                  - {path: "/x/{id}", methods: [get, POST], roles: [admin]}
            """)
        let a = file.services[0], b = file.services[1]
        #expect(a.timeoutMilliseconds == 1234 && a.rateLimit == RateLimitPolicy(requests: 7, windowSeconds: 9))
        #expect(a.circuitBreaker == CircuitBreakerThresholds(failureThreshold: 3, openSeconds: 60))
        #expect(a.basePath.prefix == "" && a.healthPath == "/health")
        #expect(b.instances.count == 2 && b.instances[1].scheme == .https)
        #expect(b.basePath.prefix == "/v2" && b.healthPath == "/ping" && b.timeoutMilliseconds == 50)
        #expect(b.tenant?.value == "6f9619ff-8b86-d011-b42d-00c04fc964ff")
        #expect(b.routes.first?.methods == [.get, .post] && b.routes.first?.roles == ["admin"])
        #expect(file.auth.publicPaths == ["/svc/public"] && file.auth.issuer == "https://issuer.example")
    }

    @Test func shippedYAMLParses() throws {
        let root = GatewayProcess.executable.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("config/brain-gateway.yaml"), encoding: .utf8)
        let file = try ServiceFileLoader().load(yaml: text)
        #expect(file.services.count == 13)
        let agents = try #require(file.services.first { $0.name.value == "ai-agents" })
        #expect(agents.instances == [UpstreamInstance(scheme: .http, host: "127.0.0.1", port: 8008)])
        #expect(agents.basePath.prefix == "/api/v1/agents")
    }
}

import Foundation
