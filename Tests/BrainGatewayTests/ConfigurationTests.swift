import Foundation
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

    @Test func tracingIsOffUnlessAnOTLPEndpointIsSet() throws {
        #expect(try EnvironmentSettingsReader(environment: [:]).read().tracing == nil)
        let on = try EnvironmentSettingsReader(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]).read()
        #expect(on.tracing?.endpoint == "http://collector:4318")
        #expect(throws: ConfigurationError(field: "OTEL_EXPORTER_OTLP_ENDPOINT", reason: "must be an http:// or https:// URL")) {
            try EnvironmentSettingsReader(environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"]).read()
        }
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
                  - {path: "/x/{id}", methods: [GET, POST], roles: [admin]}
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
        #expect(file.services.count == 14)
        #expect(file.workflows.map(\.definition.name.value) == ["contact-submit", "create-campaign", "execute-campaign", "self-heal"])
        #expect(file.workflows.first?.definition.interface.expose?.path == "/api/brain/contact/submit")
        let agents = try #require(file.services.first { $0.name.value == "ai-agents" })
        #expect(agents.instances == [UpstreamInstance(scheme: .http, host: "127.0.0.1", port: 8008)])
        #expect(agents.basePath.prefix == "/api/v1/agents")
        // The optimiser's section, the seed's thresholds.
        let optimiser = try #require(file.optimizer)
        #expect(optimiser.mode == .act && optimiser.latencyP95Milliseconds == 1000 && optimiser.errorRate == 0.05)
        #expect(optimiser.intervalSeconds == 60 && optimiser.windowSeconds == 300 && optimiser.selfHealingWorkflow == "self-heal")
    }
    @Test func trafficPolicyFieldsParse() throws {
        let file = try ServiceFileLoader().load(yaml: """
            defaults:
              load_balancing: round_robin
              retry: {retries: 2, budget_percent: 10}
              cache: {ttl_seconds: 30}
            services:
              - name: a
                instances: [{url: http://127.0.0.1:1, weight: 5}, http://127.0.0.1:2]
                circuit_breaker: {failure_threshold: 4, open_seconds: 2, max_open_seconds: 20, half_open_requests: 2,
                                  failure_statuses: [502, 503], max_ejection_percent: 100}
                retry: {backoff_ms: 5, max_backoff_ms: 50, budget_min_per_second: 0}
                cache: {enabled: false, max_body_bytes: 10}
              - name: b
                url: http://127.0.0.1:3
                load_balancing: least_request
            tenants:
              - id: 11111111-1111-4111-8111-111111111111
                rate_limit: {requests: 1000}
                services:
                  b: {rate_limit: {requests: 3, window_seconds: 1}}
            """)
        let a = file.services[0], b = file.services[1]
        #expect(a.weights == [5, 1])
        #expect(a.loadBalancing == .roundRobin && b.loadBalancing == .leastRequest)
        #expect(a.circuitBreaker == CircuitBreakerThresholds(
            failureThreshold: 4, openSeconds: 2, maxOpenSeconds: 20, halfOpenRequests: 2, failureStatuses: [502, 503], maxEjectionPercent: 100))
        #expect(a.circuitBreaker.isFailure(status: 503) && !a.circuitBreaker.isFailure(status: 500))
        #expect(b.circuitBreaker.isFailure(status: 500) && !b.circuitBreaker.isFailure(status: 404))
        // Service fields refine the defaults' retry settings instead of replacing them.
        #expect(a.retry == RetrySettings(retries: 2, backoffBaseMilliseconds: 5, backoffCapMilliseconds: 50, budgetPercent: 10, budgetMinPerSecond: 0))
        #expect(b.retry == RetrySettings(retries: 2, budgetPercent: 10))
        #expect(a.cache == CachePolicy(enabled: false, ttlSeconds: 30, maxBodyBytes: 10))
        #expect(b.cache == CachePolicy(ttlSeconds: 30))
        let tenant = try TenantID("11111111-1111-4111-8111-111111111111")
        #expect(file.tenantRateLimits.policy(for: b, tenant: tenant) == RateLimitPolicy(requests: 3, windowSeconds: 1))
        #expect(file.tenantRateLimits.policy(for: a, tenant: tenant) == RateLimitPolicy(requests: 1000, windowSeconds: 60))
        #expect(file.tenantRateLimits.policy(for: a, tenant: nil) == RateLimitPolicy.default)
    }

    @Test(arguments: [
        ("services: [{name: a, url: 'http://h:1', load_balancing: fastest}]", "services[0].load_balancing"),
        ("services: [{name: a, instances: [{url: 'http://h:1', weight: 0}]}]", "services[0].instances[0].weight"),
        ("services: [{name: a, instances: [{url: 'http://h:1', wieght: 2}]}]", "services[0].instances[0].wieght"),
        ("services: [{name: a, url: 'http://h:1', circuit_breaker: {max_ejection_percent: 101}}]", "services[0].circuit_breaker.max_ejection_percent"),
        ("services: [{name: a, url: 'http://h:1', circuit_breaker: {failure_statuses: [700]}}]", "services[0].circuit_breaker.failure_statuses[0]"),
        ("services: [{name: a, url: 'http://h:1', circuit_breaker: {open_seconds: 30, max_open_seconds: 10}}]", "services[0].circuit_breaker.max_open_seconds"),
        ("services: [{name: a, url: 'http://h:1', retry: {retries: -1}}]", "services[0].retry.retries"),
        ("services: [{name: a, url: 'http://h:1', cache: {enabled: maybe}}]", "services[0].cache.enabled"),
        ("services: [{name: a, url: 'http://h:1', cache: {ttl: 5}}]", "services[0].cache.ttl"),
        ("services: [{name: a, url: 'http://h:1', routes: [{path: /x, methods: [GTE]}]}]", "services[0].routes[0].methods"),
        ("services: [{name: a, url: 'http://h:1', routes: [{path: /x, methods: [FETCH]}]}]", "services[0].routes[0].methods"),
        ("services: [{name: a, url: 'http://h:1', health_check: {unhealthy_threshold: 0}}]", "services[0].health_check.unhealthy_threshold"),
        ("services: [{name: a, url: 'http://h:1', health_check: {healthy: 1}}]", "services[0].health_check.healthy"),
        ("defaults: {health_check: {healthy_threshold: 0}}", "defaults.health_check.healthy_threshold"),
        ("tenants: [{id: not-a-uuid}]", "tenants[0].id"),
        ("tenants: [{rate_limit: {requests: 1}}]", "tenants[0].id"),
        ("services: [{name: a, url: 'http://h:1'}]\ntenants: [{id: 11111111-1111-4111-8111-111111111111, services: {zz: {rate_limit: {requests: 1}}}}]", "tenants[0].services.zz"),
        ("tenants: [{id: 11111111-1111-4111-8111-111111111111, rate_limit: {requests: 0}}]", "tenants[0].rate_limit.requests"),
        ("optimizer: {mode: auto}", "optimizer.mode"),
        ("optimizer: {interval_seconds: 0}", "optimizer.interval_seconds"),
        ("optimizer: {window_seconds: soon}", "optimizer.window_seconds"),
        ("optimizer: {min_requests: 0}", "optimizer.min_requests"),
        ("optimizer: {error_rate: 1.5}", "optimizer.error_rate"),
        ("optimizer: {consecutive_windows: 0}", "optimizer.consecutive_windows"),
        ("optimizer: {max_weight_change_percent: 150}", "optimizer.max_weight_change_percent"),
        ("optimizer: {min_weight_percent: 0}", "optimizer.min_weight_percent"),
        ("optimizer: {cooldown_seconds: -1}", "optimizer.cooldown_seconds"),
        ("optimizer: {optimization_agent: Crew!}", "optimizer.optimization_agent"),
        ("optimizer: {self_healing_workflow: 'no such'}", "optimizer.self_healing_workflow"),
        ("optimizer: {latency_p95: 900}", "optimizer.latency_p95"),
    ])
    func trafficPolicyMistakesNameTheField(yaml: String, field: String) {
        do {
            _ = try ServiceFileLoader().load(yaml: yaml)
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.field == field, "\(error)")
        }
    }
}
