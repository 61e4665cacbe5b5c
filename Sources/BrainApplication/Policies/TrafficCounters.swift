import Atomics

/// Process-wide counters of what the traffic policies did, read by `/api/brain/metrics`
/// (`circuit_breaker_activations`, `cached_responses`). Relaxed atomics: they are
/// tallies, not synchronisation, and cost one uncontended add where they are bumped.
public final class TrafficCounters: Sendable {
    private let breakerActivations = ManagedAtomic<Int>(0)
    private let cacheHits = ManagedAtomic<Int>(0)
    private let rateLimited = ManagedAtomic<Int>(0)
    private let retries = ManagedAtomic<Int>(0)
    private let retriesDenied = ManagedAtomic<Int>(0)
    private let agents = ManagedAtomic<Int>(0)
    private let decisions = ManagedAtomic<Int>(0)

    public init() {}

    /// Breakers that opened (closed → open, or half-open → open again).
    public var circuitBreakerActivations: Int { breakerActivations.load(ordering: .relaxed) }
    /// Responses served from the response cache.
    public var cachedResponses: Int { cacheHits.load(ordering: .relaxed) }
    /// Requests refused with 429.
    public var rateLimitedRequests: Int { rateLimited.load(ordering: .relaxed) }
    /// Retries sent, and retries the budget refused.
    public var retriesSent: Int { retries.load(ordering: .relaxed) }
    public var retriesRefusedByBudget: Int { retriesDenied.load(ordering: .relaxed) }

    /// AI-agent calls made, direct or in workflows (`ai_agent_executions`).
    public var agentExecutions: Int { agents.load(ordering: .relaxed) }
    public func agentExecuted() { agents.wrappingIncrement(ordering: .relaxed) }

    /// Decisions the optimiser made, acted on or recorded (`autonomous_decisions`).
    public var autonomousDecisions: Int { decisions.load(ordering: .relaxed) }
    public func autonomousDecisionMade() { decisions.wrappingIncrement(ordering: .relaxed) }

    public func breakerOpened() { breakerActivations.wrappingIncrement(ordering: .relaxed) }
    public func cacheHit() { cacheHits.wrappingIncrement(ordering: .relaxed) }
    public func requestRateLimited() { rateLimited.wrappingIncrement(ordering: .relaxed) }
    public func retrySent() { retries.wrappingIncrement(ordering: .relaxed) }
    public func retryRefused() { retriesDenied.wrappingIncrement(ordering: .relaxed) }
}
