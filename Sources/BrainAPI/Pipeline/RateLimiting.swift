import BrainApplication
import BrainDomain
import BrainInfrastructure
import NIOCore
import NIOHTTP1

/// Rate-limit stage: one count per request for its (tenant, service) under the policy that
/// applies (tenant + service override → tenant override → service → defaults), answered with
/// a 429 when exhausted. Every proxied response of a limited route carries the
/// `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` fields (IETF draft
/// ratelimit-headers), so clients can pace themselves before they are refused. With Redis
/// (`REDIS_URL`) the count is shared by every replica (see `SharedState`).
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
    /// Redis, when replicas share their limits (`REDIS_URL`).
    private let shared: SharedState?
    /// This replica's own counters for its share of each limit while Redis is unreachable.
    private let degraded: InProcessRateLimitStore

    public init(store: any RateLimitStore, tenantLimits: TenantRateLimits, shared: SharedState? = nil) {
        self.store = store
        self.tenantLimits = tenantLimits
        self.shared = shared
        self.degraded = InProcessRateLimitStore(shardCount: 16)
    }

    /// A verdict now, or one Redis will give (on the caller's event loop).
    public enum Check {
        case decided(Verdict)
        case pending(EventLoopFuture<Verdict>)
    }

    /// Counts one request. In-process without Redis; with it, in Redis while it answers, and
    /// by `REDIS_FAILURE_MODE` while it does not — never an error.
    public func check(service: ServiceRoute, tenant: TenantID?, now: Double, on eventLoop: any EventLoop) -> Check {
        let policy = tenantLimits.policy(for: service, tenant: tenant)
        let key = RateLimitKey(tenant: tenant, service: service.name)
        guard let shared else {
            return .decided(Self.verdict(store.attempt(key, policy: policy, now: now), policy: policy))
        }
        guard shared.isUp else {
            return .decided(Self.withoutSharedState(key, policy: policy, now: now, shared: shared, degraded: degraded))
        }
        let degraded = self.degraded
        let future = shared.rateLimiter.attempt(key, policy: policy, on: eventLoop).map { Self.verdict($0, policy: policy) }.flatMapErrorThrowing { _ in
            // Late or lost: this request is decided like those that follow it.
            shared.rateLimitCallFailed()
            return Self.withoutSharedState(key, policy: policy, now: now, shared: shared, degraded: degraded)
        }
        return .pending(future)
    }

    /// `REDIS_FAILURE_MODE`: `local` counts this replica's share of the limit (rounded up, so
    /// N replicas together admit at most about the limit plus N − 1), `open` admits, `closed`
    /// refuses (429, never a 5xx).
    static func withoutSharedState(
        _ key: RateLimitKey, policy: RateLimitPolicy, now: Double, shared: SharedState, degraded: InProcessRateLimitStore
    ) -> Verdict {
        switch shared.failureMode {
        case .local:
            let replicas = shared.liveReplicas
            let share = RateLimitPolicy(requests: (policy.requests + replicas - 1) / replicas, windowSeconds: policy.windowSeconds)
            // The fields still state the whole limit: it is what the client's quota is.
            return verdict(degraded.attempt(key, policy: share, now: now), policy: policy)
        case .open:
            return Verdict(allowed: true, limit: policy.requests, remaining: policy.requests, resetSeconds: policy.windowSeconds, retryAfterSeconds: 1)
        case .closed:
            return Verdict(allowed: false, limit: policy.requests, remaining: 0, resetSeconds: 1, retryAfterSeconds: 1)
        }
    }

    static func verdict(_ decision: SlidingWindowRateLimit.Decision, policy: RateLimitPolicy) -> Verdict {
        Verdict(
            allowed: decision.allowed, limit: policy.requests, remaining: decision.remaining,
            resetSeconds: wholeSecondsUp(decision.resetSeconds), retryAfterSeconds: wholeSecondsUp(decision.retryAfterSeconds))
    }

    /// Seconds rounded up, at least 1 (a client told "0" would retry at once and be refused again).
    static func wholeSecondsUp(_ seconds: Double) -> Int {
        let whole = Int(seconds)
        return max(1, Double(whole) < seconds ? whole + 1 : whole)
    }
}
