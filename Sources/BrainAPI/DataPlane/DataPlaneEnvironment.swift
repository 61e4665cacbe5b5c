import BrainApplication
import BrainInfrastructure
import Logging
import NIOCore

/// Everything a client connection's data-plane handler needs, shared by all connections.
/// Built once before serving; every member is immutable or internally synchronised.
public struct DataPlaneEnvironment: Sendable {
    public let registry: ServiceRegistry
    public let health: HealthBoard
    public let pools: UpstreamPools
    public let limits: RequestLimits
    public let logger: Logger
    public let accessLog: AccessLog
    public let retryPolicy: RetryPolicy
    public let authentication: Authentication
    public let proofOfOrigin: ProofOfOriginCaches
    public let rateLimiting: RateLimiting
    let caching: ResponseCaching
    public let traffic: TrafficStates
    public let counters: TrafficCounters
    public let metrics: GatewayMetrics
    public let tracing: RequestTracing
    /// Hard deadline for in-flight requests after a graceful shutdown starts.
    public let drainTime: TimeAmount

    public init(
        registry: ServiceRegistry, health: HealthBoard, pools: UpstreamPools, limits: RequestLimits,
        authentication: Authentication, proofOfOrigin: ProofOfOriginCaches, rateLimiting: RateLimiting, cache: ResponseCache,
        traffic: TrafficStates, counters: TrafficCounters, metrics: GatewayMetrics, tracing: RequestTracing = .off, logger: Logger,
        drainTime: TimeAmount, sharedCache: SharedResponseCache? = nil, sharedState: SharedState? = nil
    ) {
        self.tracing = tracing
        self.metrics = metrics
        self.rateLimiting = rateLimiting
        self.caching = ResponseCaching(cache: cache, shared: sharedCache, sharedState: sharedState)
        self.traffic = traffic
        self.counters = counters
        self.proofOfOrigin = proofOfOrigin
        self.authentication = authentication
        self.registry = registry
        self.health = health
        self.pools = pools
        self.limits = limits
        self.logger = logger
        self.accessLog = AccessLog(logger: logger)
        self.retryPolicy = RetryPolicy()
        self.drainTime = drainTime
    }
}
