/// Circuit-breaker thresholds of a service (design.md §4: 5 failures, 60 s open).
public struct CircuitBreakerThresholds: Hashable, Sendable {
    public var failureThreshold: Int
    public var openSeconds: Int

    public static let `default` = CircuitBreakerThresholds(failureThreshold: 5, openSeconds: 60)

    public init(failureThreshold: Int, openSeconds: Int) {
        self.failureThreshold = failureThreshold
        self.openSeconds = openSeconds
    }
}

/// Request budget per (tenant, service) and window (design.md §4: 100 per 60 s).
public struct RateLimitPolicy: Hashable, Sendable {
    public var requests: Int
    public var windowSeconds: Int

    public static let `default` = RateLimitPolicy(requests: 100, windowSeconds: 60)

    public init(requests: Int, windowSeconds: Int) {
        self.requests = requests
        self.windowSeconds = windowSeconds
    }
}
