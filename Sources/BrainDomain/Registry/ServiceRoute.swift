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

    /// The largest values a service document may carry.
    public enum Limits {
        /// One hour: no upstream answer is worth waiting longer for.
        public static let maxTimeoutMilliseconds = 3_600_000
        /// One day, for breaker open times and rate-limit windows.
        public static let maxSeconds = 86_400
        /// One year, for cache lifetimes.
        public static let maxCacheSeconds = 31_536_000
    }

    public enum InvariantViolation: Error, Equatable, CustomStringConvertible {
        /// `field` is the document path of the offending value (`instances`, `routes[2].path`).
        case invalid(field: String, reason: String)
        /// The change is valid on its own but collides with what the service already has (a
        /// route for an overlapping (pattern, method)): a conflict with state, not bad input.
        case conflict(field: String, reason: String)

        public var field: String {
            switch self { case .invalid(let f, _), .conflict(let f, _): f }
        }
        public var reason: String {
            switch self { case .invalid(_, let r), .conflict(_, let r): r }
        }
        public var description: String { "\(field): \(reason)" }
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
        guard !healthPath.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: "\\") }) else {
            throw .invalid(field: "health_path", reason: "must not contain spaces, control characters, '#' or '\\'")
        }
        // Upper bounds keep every derived duration and count far from overflow.
        guard (1...Limits.maxTimeoutMilliseconds).contains(timeoutMilliseconds) else {
            throw .invalid(field: "timeout_ms", reason: "must be 1-\(Limits.maxTimeoutMilliseconds)")
        }
        guard circuitBreaker.openSeconds <= Limits.maxSeconds, circuitBreaker.maxOpenSeconds <= Limits.maxSeconds else {
            throw .invalid(field: circuitBreaker.openSeconds > Limits.maxSeconds ? "circuit_breaker.open_seconds" : "circuit_breaker.max_open_seconds", reason: "must be at most \(Limits.maxSeconds)")
        }
        guard rateLimit.windowSeconds <= Limits.maxSeconds else { throw .invalid(field: "rate_limit.window_seconds", reason: "must be at most \(Limits.maxSeconds)") }
        guard retry.retries <= 10 else { throw .invalid(field: "retry.retries", reason: "must be 0-10") }
        guard retry.budgetPercent <= 1000 else { throw .invalid(field: "retry.budget_percent", reason: "must be 0-1000") }
        guard (0...100_000).contains(retry.budgetMinPerSecond) else { throw .invalid(field: "retry.budget_min_per_second", reason: "must be 0-100000") }
        guard rateLimit.requests <= 1_000_000_000 else { throw .invalid(field: "rate_limit.requests", reason: "must be at most 1000000000") }
        guard circuitBreaker.failureThreshold <= 1_000_000 else { throw .invalid(field: "circuit_breaker.failure_threshold", reason: "must be at most 1000000") }
        guard circuitBreaker.halfOpenRequests <= 1000 else { throw .invalid(field: "circuit_breaker.half_open_requests", reason: "must be 1-1000") }
        guard cache.maxBodyBytes <= 1 << 30 else { throw .invalid(field: "cache.max_body_bytes", reason: "must be at most 1073741824") }
        guard retry.backoffCapMilliseconds <= Limits.maxTimeoutMilliseconds else {
            throw .invalid(field: retry.backoffBaseMilliseconds > Limits.maxTimeoutMilliseconds ? "retry.backoff_ms" : "retry.max_backoff_ms", reason: "must be at most \(Limits.maxTimeoutMilliseconds)")
        }
        if let ttl = cache.ttlSeconds, ttl > Limits.maxCacheSeconds { throw .invalid(field: "cache.ttl_seconds", reason: "must be at most \(Limits.maxCacheSeconds)") }
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
        try Self.checkMethods(of: route, field: field)
        for existing in routes where existing.pattern == route.pattern {
            if existing.methods.isEmpty || route.methods.isEmpty || !existing.methods.isDisjoint(with: route.methods) {
                throw .conflict(field: methodsField, reason: "\(route.pattern) is already registered for an overlapping method")
            }
        }
        routes.append(route)
        pendingEvents.append(.routeRegistered(service: name, tenant: tenant, pattern: route.pattern, methods: route.methods.map(\.description).sorted().map(HttpMethod.init)))
    }

    /// A method outside the standard set could never match a request a client sends through a
    /// route table, so it is a typo ("GTE") or a misunderstanding ("FETCH").
    public static func checkMethods(of route: RouteDefinition, field: String = "") throws(InvariantViolation) {
        for method in route.methods.map(\.description).sorted() where !HttpMethod.routable.contains(HttpMethod(method)) {
            throw .invalid(
                field: field.isEmpty ? "methods" : field + ".methods",
                reason: "'\(method)' is not one of \(HttpMethod.routableNames.joined(separator: ", "))")
        }
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
