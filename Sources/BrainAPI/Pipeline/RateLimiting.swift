import BrainApplication
import BrainDomain
import NIOHTTP1

/// Rate-limit stage: one count per request for its (tenant, service) under the policy that
/// applies (tenant + service override → tenant override → service → defaults), answered with
/// a 429 when exhausted. Every proxied response of a limited route carries the
/// `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` fields (IETF draft
/// ratelimit-headers), so clients can pace themselves before they are refused.
public struct RateLimiting: Sendable {
    public struct Verdict: Sendable, Equatable {
        public let allowed: Bool
        public let limit: Int
        public let remaining: Int
        /// Whole seconds until the current window ends.
        public let resetSeconds: Int
        /// Whole seconds to wait before retrying (when refused).
        public let retryAfterSeconds: Int

        /// The response fields, in order.
        public var headers: [(String, String)] {
            var fields = HTTPHeaders()
            append(to: &fields)
            return fields.map { ($0.name, $0.value) }
        }

        /// Adds the fields to a response head being built or composed as bytes (no
        /// intermediate array, no number formatted into a `String` on the byte path: this runs
        /// for every proxied response of a limited route).
        func append<Sink: HeaderFieldSink>(to sink: inout Sink) {
            sink.addField("RateLimit-Limit", decimal: limit)
            sink.addField("RateLimit-Remaining", decimal: remaining)
            sink.addField("RateLimit-Reset", decimal: resetSeconds)
            if !allowed { sink.addField("Retry-After", decimal: retryAfterSeconds) }
        }
    }

    private let store: any RateLimitStore
    private let tenantLimits: TenantRateLimits

    public init(store: any RateLimitStore, tenantLimits: TenantRateLimits) {
        self.store = store
        self.tenantLimits = tenantLimits
    }

    public func check(service: ServiceRoute, tenant: TenantID?, now: Double) -> Verdict {
        let policy = tenantLimits.policy(for: service, tenant: tenant)
        let decision = store.attempt(RateLimitKey(tenant: tenant, service: service.name), policy: policy, now: now)
        return Verdict(
            allowed: decision.allowed, limit: policy.requests, remaining: decision.remaining,
            resetSeconds: Self.wholeSecondsUp(decision.resetSeconds), retryAfterSeconds: Self.wholeSecondsUp(decision.retryAfterSeconds))
    }

    /// Seconds rounded up, at least 1 (a client told "0" would retry at once and be refused again).
    static func wholeSecondsUp(_ seconds: Double) -> Int {
        let whole = Int(seconds)
        return max(1, Double(whole) < seconds ? whole + 1 : whole)
    }
}
