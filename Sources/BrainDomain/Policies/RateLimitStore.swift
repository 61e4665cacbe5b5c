/// Whose requests one rate-limit counter counts: a tenant's calls to one service (public-path
/// requests, which have no tenant, share one counter per service).
public struct RateLimitKey: Hashable, Sendable {
    public let tenant: TenantID?
    public let service: ServiceName

    public init(tenant: TenantID?, service: ServiceName) {
        self.tenant = tenant
        self.service = service
    }
}

/// Where rate-limit counters live: in the process now, in Redis for replicas later. Called on
/// the data plane's event loop for every limited request, so an implementation must answer
/// without blocking on I/O.
public protocol RateLimitStore: Sendable {
    /// Counts one request for `key` at `now` if `policy` allows it.
    func attempt(_ key: RateLimitKey, policy: RateLimitPolicy, now: Double) -> SlidingWindowRateLimit.Decision
}
