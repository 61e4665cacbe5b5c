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
    /// Hard deadline for in-flight requests after a graceful shutdown starts.
    public let drainTime: TimeAmount

    public init(
        registry: ServiceRegistry, health: HealthBoard, pools: UpstreamPools, limits: RequestLimits,
        authentication: Authentication, proofOfOrigin: ProofOfOriginCaches, logger: Logger, drainTime: TimeAmount
    ) {
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
