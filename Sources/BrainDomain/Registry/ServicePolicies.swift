/// Circuit-breaker settings of a service: by default 5 failures in a row open it for 60 s.
public struct CircuitBreakerThresholds: Hashable, Sendable {
    public var failureThreshold: Int
    public var openSeconds: Int
    /// The open time doubles on each failed half-open probe, up to this.
    public var maxOpenSeconds: Int
    /// Requests admitted at once while half-open; all must succeed to close.
    public var halfOpenRequests: Int
    /// Upstream statuses counted as failures; nil means every 5xx.
    public var failureStatuses: Set<Int>?
    /// At most this share of a service's instances is ejected at once (at least one always may be).
    public var maxEjectionPercent: Int

    public static let `default` = CircuitBreakerThresholds(failureThreshold: 5, openSeconds: 60)

    public init(
        failureThreshold: Int, openSeconds: Int, maxOpenSeconds: Int = 600, halfOpenRequests: Int = 1,
        failureStatuses: Set<Int>? = nil, maxEjectionPercent: Int = 50
    ) {
        self.failureThreshold = failureThreshold
        self.openSeconds = openSeconds
        self.maxOpenSeconds = max(openSeconds, maxOpenSeconds)
        self.halfOpenRequests = halfOpenRequests
        self.failureStatuses = failureStatuses
        self.maxEjectionPercent = maxEjectionPercent
    }

    /// Whether an upstream response with this status counts against the instance.
    @inlinable
    public func isFailure(status: Int) -> Bool {
        guard status >= 500 || failureStatuses != nil else { return false }
        if let failureStatuses { return failureStatuses.contains(status) }
        return status <= 599
    }

    /// How many of `instanceCount` instances may be ejected at once.
    public func maxEjected(instanceCount: Int) -> Int {
        max(1, instanceCount * maxEjectionPercent / 100)
    }
}

/// Request budget per (tenant, service) and window: by default 100 per 60 s.
public struct RateLimitPolicy: Hashable, Sendable {
    public var requests: Int
    public var windowSeconds: Int

    public static let `default` = RateLimitPolicy(requests: 100, windowSeconds: 60)

    public init(requests: Int, windowSeconds: Int) {
        self.requests = requests
        self.windowSeconds = windowSeconds
    }
}

/// How a service's requests are spread over its instances.
public enum LoadBalancingAlgorithm: String, Hashable, Sendable, CaseIterable {
    /// Smooth weighted round robin (nginx's algorithm).
    case roundRobin = "round_robin"
    /// Power of two choices by outstanding requests (÷ weight).
    case leastRequest = "least_request"
    /// Power of two choices by peak-EWMA latency × (outstanding + 1) ÷ weight (Finagle, Linkerd).
    case peakEWMA = "peak_ewma"
}

/// Retries of failed upstream attempts, bounded by a budget.
public struct RetrySettings: Hashable, Sendable {
    /// Retries after the first attempt (once by default).
    public var retries: Int
    /// Full-jitter backoff: a retry waits a random time in [0, min(cap, base × 2^(n-1))].
    public var backoffBaseMilliseconds: Int
    public var backoffCapMilliseconds: Int
    /// Retries may add at most this share of the service's request rate…
    public var budgetPercent: Int
    /// …plus this many per second, so a quiet service can still retry.
    public var budgetMinPerSecond: Int

    public static let `default` = RetrySettings()

    public init(retries: Int = 1, backoffBaseMilliseconds: Int = 25, backoffCapMilliseconds: Int = 250, budgetPercent: Int = 20, budgetMinPerSecond: Int = 3) {
        self.retries = retries
        self.backoffBaseMilliseconds = backoffBaseMilliseconds
        self.backoffCapMilliseconds = max(backoffBaseMilliseconds, backoffCapMilliseconds)
        self.budgetPercent = budgetPercent
        self.budgetMinPerSecond = budgetMinPerSecond
    }
}

/// The service's response-cache policy.
public struct CachePolicy: Hashable, Sendable {
    public var enabled: Bool
    /// Freshness for responses the upstream did not give one (and did not forbid storing).
    public var ttlSeconds: Int?
    /// Larger bodies are streamed through without being stored.
    public var maxBodyBytes: Int

    public static let `default` = CachePolicy()

    public init(enabled: Bool = true, ttlSeconds: Int? = nil, maxBodyBytes: Int = 1 << 20) {
        self.enabled = enabled
        self.ttlSeconds = ttlSeconds
        self.maxBodyBytes = maxBodyBytes
    }
}

/// Active health checking of a service's instances, apart from the breaker's passive count
/// (Envoy's `unhealthy_threshold`/`healthy_threshold`): a service may tolerate many failed
/// requests before its breaker opens, yet an instance whose health endpoint keeps failing must
/// leave rotation after a few probes.
public struct HealthCheckPolicy: Hashable, Sendable {
    /// Failed probes in a row that take an instance out of rotation.
    public var unhealthyThreshold: Int
    /// Successful probes in a row that bring a probed-out instance back.
    public var healthyThreshold: Int

    public static let `default` = HealthCheckPolicy()

    public init(unhealthyThreshold: Int = 2, healthyThreshold: Int = 1) {
        self.unhealthyThreshold = unhealthyThreshold
        self.healthyThreshold = healthyThreshold
    }
}
