import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation

// What the GraphQL schema shows: plain values copied from the domain, field names as in the
// REST documents (snake_case), so a client can move between the two APIs without renaming.

struct ServiceView: Codable, Sendable {
    let name: String
    let instances: [String]
    let base_path: String
    let health_path: String
    let status: String
    let tenant_id: String?
    let timeout_ms: Int
    let roles: [String]
    let routes: [RouteView]

    init(_ service: ServiceRoute, status: String) {
        name = service.name.value
        instances = service.instances.map(\.description)
        base_path = service.basePath.description
        health_path = service.healthPath
        self.status = status
        tenant_id = service.tenant?.value
        timeout_ms = service.timeoutMilliseconds
        roles = service.defaultRoles
        routes = service.routes.map(RouteView.init)
    }
}

struct RouteView: Codable, Sendable {
    let path: String
    let methods: [String]
    let roles: [String]

    init(_ route: RouteDefinition) {
        path = route.pattern.description
        methods = route.methods.map(\.description).sorted()
        roles = route.roles
    }
}

struct HealthView: Codable, Sendable {
    let status: String
    let services: [ServiceHealthView]
}

struct ServiceHealthView: Codable, Sendable {
    let name: String
    let status: String
    let response_time_ms: Double?
}

struct EventView: Codable, Sendable {
    let id: Int
    let type: String
    let occurred_at: String
    let tenant_id: String?
    /// The service the event names.
    let service: String?
    /// The event's `data` object as JSON text (GraphQL has no map type).
    let data: String

    init(_ event: StoredEvent) {
        id = Int(event.id)
        type = event.type
        occurred_at = DomainEventEncoding.iso8601(event.occurredAt)
        tenant_id = event.tenantID
        let object = (try? JSONSerialization.jsonObject(with: Data(event.data.utf8))) as? [String: Any]
        service = object?["service"] as? String
        data = event.data
    }
}

struct CountView: Codable, Sendable {
    let key: String
    let count: Int
}

/// `/api/brain/metrics`' eight fields; the two maps become lists of `{key, count}`.
struct MetricsView: Codable, Sendable {
    let total_requests: Int
    let requests_per_service: [CountView]
    let ai_agent_executions: Int
    let autonomous_decisions: Int
    let average_response_time: Double
    let circuit_breaker_activations: Int
    let cached_responses: Int
    let tenant_distribution: [CountView]

    init(_ summary: MetricsSummary) {
        total_requests = summary.totalRequests
        requests_per_service = summary.perService.sorted { $0.key < $1.key }.map { CountView(key: $0.key, count: $0.value) }
        ai_agent_executions = summary.agentExecutions
        autonomous_decisions = summary.autonomousDecisions
        average_response_time = summary.averageMilliseconds
        circuit_breaker_activations = summary.circuitBreakerActivations
        cached_responses = summary.cachedResponses
        tenant_distribution = summary.perTenant.sorted { $0.key < $1.key }.map { CountView(key: $0.key, count: $0.value) }
    }
}

/// The metrics summary both APIs show.
struct MetricsSummary: Sendable {
    let totalRequests: Int
    let perService: [String: Int]
    let perTenant: [String: Int]
    let averageMilliseconds: Double
    let circuitBreakerActivations: Int
    let cachedResponses: Int
    let agentExecutions: Int
    let autonomousDecisions: Int

    static func current(traffic: TrafficStates, counters: TrafficCounters) async -> MetricsSummary {
        let tally = await traffic.tally()
        return MetricsSummary(
            totalRequests: tally.totalRequests, perService: tally.perService, perTenant: tally.perTenant,
            averageMilliseconds: tally.totalRequests == 0 ? 0 : tally.totalMilliseconds / Double(tally.totalRequests),
            circuitBreakerActivations: counters.circuitBreakerActivations, cachedResponses: counters.cachedResponses,
            agentExecutions: counters.agentExecutions, autonomousDecisions: counters.autonomousDecisions)
    }

    /// The REST document.
    var dictionary: [String: Any] {
        [
            "total_requests": totalRequests, "requests_per_service": perService, "ai_agent_executions": agentExecutions,
            "autonomous_decisions": autonomousDecisions, "average_response_time": averageMilliseconds,
            "circuit_breaker_activations": circuitBreakerActivations, "cached_responses": cachedResponses,
            "tenant_distribution": perTenant,
        ]
    }
}

// MARK: Inputs (the REST documents' fields)

struct RateLimitInput: Codable, Sendable {
    let requests: Int?
    let window_seconds: Int?
}

struct CircuitBreakerInput: Codable, Sendable {
    let failure_threshold: Int?
    let open_seconds: Int?
}

struct HealthCheckInput: Codable, Sendable {
    let unhealthy_threshold: Int?
    let healthy_threshold: Int?
}

struct RouteInput: Codable, Sendable {
    let path: String
    let methods: [String]?
    let roles: [String]?
}

struct ServiceInput: Codable, Sendable {
    let name: String
    let instances: [String]
    let base_path: String?
    let health_path: String?
    let tenant_id: String?
    let timeout_ms: Int?
    let roles: [String]?
    let load_balancing: String?
    let rate_limit: RateLimitInput?
    let circuit_breaker: CircuitBreakerInput?
    let health_check: HealthCheckInput?
    let routes: [RouteInput]?
}
