import BrainDomain

/// The YAML's `defaults:` section: what a service document that leaves a policy out gets —
/// in the YAML file and in the admin API alike.
public struct ServiceDefaults: Sendable, Equatable {
    public var timeoutMilliseconds = 30_000
    public var rateLimit = RateLimitPolicy.default
    public var circuitBreaker = CircuitBreakerThresholds.default
    public var loadBalancing = LoadBalancingAlgorithm.peakEWMA
    public var retry = RetrySettings.default
    public var cache = CachePolicy.default
    public var healthCheck = HealthCheckPolicy.default

    public init() {}
}
