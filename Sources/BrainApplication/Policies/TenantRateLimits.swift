import BrainDomain

/// Rate-limit overrides per tenant: for all of a tenant's traffic, or for one service.
/// Precedence, most specific first: tenant + service → tenant → service document → `defaults:`.
public struct TenantRateLimits: Sendable, Equatable {
    public struct Override: Sendable, Equatable {
        /// For every service this tenant calls (unless a per-service entry says otherwise).
        public var all: RateLimitPolicy?
        /// By service name.
        public var services: [String: RateLimitPolicy]

        public init(all: RateLimitPolicy? = nil, services: [String: RateLimitPolicy] = [:]) {
            self.all = all
            self.services = services
        }
    }

    public var overrides: [TenantID: Override]

    public init(overrides: [TenantID: Override] = [:]) {
        self.overrides = overrides
    }

    /// The policy for `tenant` calling `service`. Costs nothing when no override exists.
    @inlinable
    public func policy(for service: ServiceRoute, tenant: TenantID?) -> RateLimitPolicy {
        guard !overrides.isEmpty, let tenant, let override = overrides[tenant] else { return service.rateLimit }
        return override.services[service.name.value] ?? override.all ?? service.rateLimit
    }
}
