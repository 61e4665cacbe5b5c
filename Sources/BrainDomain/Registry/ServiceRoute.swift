/// The registry's aggregate: one service, where it runs, how its requests are forwarded, which
/// (pattern, method) pairs it accepts and its health.
///
/// Invariants enforced here: at least one instance, no duplicate instance, a positive timeout,
/// positive breaker thresholds, no duplicate (pattern, method) pair. Every change that other
/// parts of the system must learn about is recorded in `pendingEvents`.
public struct ServiceRoute: Sendable, Hashable {
    public let name: ServiceName
    public let tenant: TenantID?
    public private(set) var instances: [UpstreamInstance]
    public var basePath: BasePath
    public var healthPath: String
    public private(set) var timeoutMilliseconds: Int
    public private(set) var routes: [RouteDefinition]
    public private(set) var status: ServiceStatus
    public private(set) var circuitBreaker: CircuitBreakerThresholds
    public var rateLimit: RateLimitPolicy
    public var loadBalancing: LoadBalancingAlgorithm
    public var retry: RetrySettings
    public var cache: CachePolicy
    public var healthCheck: HealthCheckPolicy
    /// Relative share of traffic per instance (same order as `instances`; default 1 each).
    public private(set) var weights: [Int]
    /// Roles a caller needs (any one of) for routes that list none themselves; empty = any caller.
    public var defaultRoles: [String]
    public private(set) var pendingEvents: [DomainEvent] = []

    public enum InvariantViolation: Error, Equatable, CustomStringConvertible {
        /// `field` is the document path of the offending value (`instances`, `routes[2].path`).
        case invalid(field: String, reason: String)

        public var field: String { if case .invalid(let f, _) = self { return f }; return "" }
        public var reason: String { if case .invalid(_, let r) = self { return r }; return "" }
        public var description: String {
            switch self { case .invalid(let f, let r): "\(f): \(r)" }
        }
    }

    public init(
        name: ServiceName,
        tenant: TenantID? = nil,
        instances: [UpstreamInstance],
        basePath: BasePath,
        healthPath: String = "/health",
        timeoutMilliseconds: Int = 30_000,
        circuitBreaker: CircuitBreakerThresholds = .default,
        rateLimit: RateLimitPolicy = .default,
        defaultRoles: [String] = [],
        routes: [RouteDefinition] = [],
        loadBalancing: LoadBalancingAlgorithm = .peakEWMA,
        retry: RetrySettings = .default,
        cache: CachePolicy = .default,
        weights: [Int]? = nil,
        healthCheck: HealthCheckPolicy = .default
    ) throws(InvariantViolation) {
        guard !instances.isEmpty else { throw .invalid(field: "instances", reason: "at least one instance is required") }
        guard Set(instances).count == instances.count else { throw .invalid(field: "instances", reason: "instances must be distinct") }
        guard healthPath.first == "/" else { throw .invalid(field: "health_path", reason: "must start with '/'") }
        guard timeoutMilliseconds > 0 else { throw .invalid(field: "timeout_ms", reason: "must be positive") }
        guard circuitBreaker.failureThreshold > 0 else { throw .invalid(field: "circuit_breaker.failure_threshold", reason: "must be positive") }
        guard circuitBreaker.openSeconds > 0 else { throw .invalid(field: "circuit_breaker.open_seconds", reason: "must be positive") }
        guard rateLimit.requests > 0 else { throw .invalid(field: "rate_limit.requests", reason: "must be positive") }
        guard rateLimit.windowSeconds > 0 else { throw .invalid(field: "rate_limit.window_seconds", reason: "must be positive") }
        guard circuitBreaker.halfOpenRequests > 0 else { throw .invalid(field: "circuit_breaker.half_open_requests", reason: "must be positive") }
        guard (0...100).contains(circuitBreaker.maxEjectionPercent) else { throw .invalid(field: "circuit_breaker.max_ejection_percent", reason: "must be 0-100") }
        guard retry.retries >= 0 else { throw .invalid(field: "retry.retries", reason: "must not be negative") }
        guard retry.budgetPercent >= 0 else { throw .invalid(field: "retry.budget_percent", reason: "must not be negative") }
        guard (1...100).contains(healthCheck.unhealthyThreshold) else { throw .invalid(field: "health_check.unhealthy_threshold", reason: "must be 1-100") }
        guard (1...100).contains(healthCheck.healthyThreshold) else { throw .invalid(field: "health_check.healthy_threshold", reason: "must be 1-100") }
        guard cache.maxBodyBytes >= 0 else { throw .invalid(field: "cache.max_body_bytes", reason: "must not be negative") }
        let weights = weights ?? Array(repeating: 1, count: instances.count)
        guard weights.count == instances.count else { throw .invalid(field: "instances", reason: "one weight per instance") }
        for (i, w) in weights.enumerated() where w < 1 || w > 1000 {
            throw .invalid(field: "instances[\(i)].weight", reason: "must be 1-1000")
        }
        self.name = name
        self.tenant = tenant
        self.instances = instances
        self.basePath = basePath
        self.healthPath = healthPath
        self.timeoutMilliseconds = timeoutMilliseconds
        self.circuitBreaker = circuitBreaker
        self.rateLimit = rateLimit
        self.defaultRoles = defaultRoles
        self.loadBalancing = loadBalancing
        self.retry = retry
        self.cache = cache
        self.healthCheck = healthCheck
        self.weights = weights
        self.routes = []
        self.status = .healthy
        self.pendingEvents = [.serviceRegistered(service: name, tenant: tenant)]
        for (index, route) in routes.enumerated() {
            try register(route, field: "routes[\(index)]")
        }
    }

    /// Adds a route; a (pattern, method) pair already served is refused so two routes can never
    /// disagree about the roles one request needs. `field` is the route's path in the document
    /// that carried it (`routes[2]`), empty when the route was the whole document.
    public mutating func register(_ route: RouteDefinition, field: String = "") throws(InvariantViolation) {
        let methodsField = field.isEmpty ? "methods" : field + ".methods"
        // A method outside the standard set could never match a request a client sends
        // through a route table, so it is a typo ("GTE") or a misunderstanding ("FETCH").
        for method in route.methods.map(\.description).sorted() where !HttpMethod.routable.contains(HttpMethod(method)) {
            throw .invalid(field: methodsField, reason: "'\(method)' is not one of \(HttpMethod.routableNames.joined(separator: ", "))")
        }
        for existing in routes where existing.pattern == route.pattern {
            if existing.methods.isEmpty || route.methods.isEmpty || !existing.methods.isDisjoint(with: route.methods) {
                throw .invalid(field: methodsField, reason: "\(route.pattern) is already registered for an overlapping method")
            }
        }
        routes.append(route)
        pendingEvents.append(.routeRegistered(service: name, tenant: tenant, pattern: route.pattern, methods: route.methods.map(\.description).sorted().map(HttpMethod.init)))
    }

    /// Changes one instance's share of traffic at runtime (the optimiser's lever).
    public mutating func setWeight(_ weight: Int, for instance: UpstreamInstance) throws(InvariantViolation) {
        guard let index = instances.firstIndex(of: instance) else { throw .invalid(field: "instance", reason: "\(instance) is not an instance of \(name)") }
        guard (1...1000).contains(weight) else { throw .invalid(field: "weight", reason: "must be 1-1000") }
        weights[index] = weight
    }

    /// Records a health transition; no event when nothing changed.
    public mutating func recordHealth(_ newStatus: ServiceStatus) {
        guard newStatus != status else { return }
        pendingEvents.append(.serviceHealthChanged(service: name, tenant: tenant, from: status, to: newStatus))
        status = newStatus
    }

    /// Hands the recorded events to the caller (who publishes them) and forgets them.
    public mutating func drainEvents() -> [DomainEvent] {
        defer { pendingEvents.removeAll() }
        return pendingEvents
    }

    /// The (pattern, method) matcher for this service's routes.
    public func makeRouteTrie() -> RouteTrie { RouteTrie(routes: routes) }
}
