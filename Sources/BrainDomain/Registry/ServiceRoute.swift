/// The registry's aggregate: one service, where it runs, how its requests are forwarded, which
/// (pattern, method) pairs it accepts and its health.
///
/// Invariants enforced here: at least one instance, no duplicate instance, a positive timeout,
/// positive breaker thresholds, no duplicate (pattern, method) pair. Every change that other
/// parts of the system must learn about is recorded in `pendingEvents`.
public struct ServiceRoute: Sendable, Hashable {
    /// The document's fields, in one shared, immutable box. The data plane hands a service to
    /// several stages per request; as a struct of fourteen reference-holding fields each copy
    /// retained all of them (~36 retains per proxied request), as a box it is one. Changes are
    /// control-plane events and rare: each makes a new box.
    private var storage: Storage

    private final class Storage: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private struct Fields: Sendable, Hashable {
        let name: ServiceName
        let tenant: TenantID?
        var instances: [UpstreamInstance]
        var basePath: BasePath
        var healthPath: String
        var timeoutMilliseconds: Int
        var routes: [RouteDefinition]
        var status: ServiceStatus
        var circuitBreaker: CircuitBreakerThresholds
        var rateLimit: RateLimitPolicy
        var loadBalancing: LoadBalancingAlgorithm
        var retry: RetrySettings
        var cache: CachePolicy
        var healthCheck: HealthCheckPolicy
        var weights: [Int]
        var defaultRoles: [String]
        var pendingEvents: [DomainEvent]
    }

    /// Applies a change to a new box (the old one may be shared with other copies).
    private mutating func update<Failure: Error>(_ change: (inout Fields) throws(Failure) -> Void) throws(Failure) {
        var fields = storage.fields
        try change(&fields)
        storage = Storage(fields)
    }

    public var name: ServiceName { storage.fields.name }
    public var tenant: TenantID? { storage.fields.tenant }
    public var instances: [UpstreamInstance] { storage.fields.instances }
    public var basePath: BasePath {
        get { storage.fields.basePath }
        set { update { $0.basePath = newValue } }
    }
    public var healthPath: String {
        get { storage.fields.healthPath }
        set { update { $0.healthPath = newValue } }
    }
    public var timeoutMilliseconds: Int { storage.fields.timeoutMilliseconds }
    public var routes: [RouteDefinition] { storage.fields.routes }
    public var status: ServiceStatus { storage.fields.status }
    public var circuitBreaker: CircuitBreakerThresholds { storage.fields.circuitBreaker }
    public var rateLimit: RateLimitPolicy {
        get { storage.fields.rateLimit }
        set { update { $0.rateLimit = newValue } }
    }
    public var loadBalancing: LoadBalancingAlgorithm {
        get { storage.fields.loadBalancing }
        set { update { $0.loadBalancing = newValue } }
    }
    public var retry: RetrySettings {
        get { storage.fields.retry }
        set { update { $0.retry = newValue } }
    }
    public var cache: CachePolicy {
        get { storage.fields.cache }
        set { update { $0.cache = newValue } }
    }
    public var healthCheck: HealthCheckPolicy {
        get { storage.fields.healthCheck }
        set { update { $0.healthCheck = newValue } }
    }
    /// Relative share of traffic per instance (same order as `instances`; default 1 each).
    public var weights: [Int] { storage.fields.weights }
    /// Roles a caller needs (any one of) for routes that list none themselves; empty = any caller.
    public var defaultRoles: [String] {
        get { storage.fields.defaultRoles }
        set { update { $0.defaultRoles = newValue } }
    }
    public var pendingEvents: [DomainEvent] { storage.fields.pendingEvents }

    public static func == (lhs: ServiceRoute, rhs: ServiceRoute) -> Bool {
        lhs.storage === rhs.storage || lhs.storage.fields == rhs.storage.fields
    }

    public func hash(into hasher: inout Hasher) { storage.fields.hash(into: &hasher) }

    /// The largest values a service document may carry.
    public enum Limits {
        /// One hour: no upstream answer is worth waiting longer for.
        public static let maxTimeoutMilliseconds = 3_600_000
        /// One day, for breaker open times and rate-limit windows.
        public static let maxSeconds = 86_400
        /// One year, for cache lifetimes.
        public static let maxCacheSeconds = 31_536_000
        /// An instance's load-balancing weight is 1 through this.
        public static let maxWeight = 1000
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
        for (i, w) in weights.enumerated() where w < 1 || w > Limits.maxWeight {
            throw .invalid(field: "instances[\(i)].weight", reason: "must be 1-1000")
        }
        self.storage = Storage(Fields(
            name: name, tenant: tenant, instances: instances, basePath: basePath, healthPath: healthPath,
            timeoutMilliseconds: timeoutMilliseconds, routes: [], status: .healthy, circuitBreaker: circuitBreaker,
            rateLimit: rateLimit, loadBalancing: loadBalancing, retry: retry, cache: cache, healthCheck: healthCheck,
            weights: weights, defaultRoles: defaultRoles, pendingEvents: [.serviceRegistered(service: name, tenant: tenant)]))
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
        let event = DomainEvent.routeRegistered(service: name, tenant: tenant, pattern: route.pattern, methods: route.methods.map(\.description).sorted().map(HttpMethod.init))
        update {
            $0.routes.append(route)
            $0.pendingEvents.append(event)
        }
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
        guard (1...Limits.maxWeight).contains(weight) else { throw .invalid(field: "weight", reason: "must be 1-\(Limits.maxWeight)") }
        update { $0.weights[index] = weight }
    }

    /// Records a health transition; no event when nothing changed.
    public mutating func recordHealth(_ newStatus: ServiceStatus) {
        guard newStatus != status else { return }
        let event = DomainEvent.serviceHealthChanged(service: name, tenant: tenant, from: status, to: newStatus)
        update {
            $0.pendingEvents.append(event)
            $0.status = newStatus
        }
    }

    /// Hands the recorded events to the caller (who publishes them) and forgets them.
    public mutating func drainEvents() -> [DomainEvent] {
        let events = pendingEvents
        if !events.isEmpty { update { $0.pendingEvents.removeAll() } }
        return events
    }

    /// The (pattern, method) matcher for this service's routes.
    public func makeRouteTrie() -> RouteTrie { RouteTrie(routes: routes) }
}
