import BrainDomain
import Logging

/// Where the registry and events are stored (design.md `DATABASE_URL`).
public enum StorageLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        // Never print credentials: only the scheme is shown.
        case .postgres: "postgresql://…"
        }
    }
}

/// Limits the data plane enforces on client requests (design.md "Limits").
public struct RequestLimits: Sendable, Equatable {
    public var maxHeaderBytes: Int = 32 * 1024
    public var maxHeaderCount: Int = 100
    public var maxBodyBytes: Int64 = 1 << 30
    public var idleTimeoutSeconds: Int = 60
    public var headerTimeoutSeconds: Int = 10

    public init() {}
}

/// The process's settings, read once at start from the environment (design.md §3).
public struct GatewaySettings: Sendable {
    public var host: String = "0.0.0.0"
    public var port: Int = 8001
    public var logLevel: Logger.Level = .info
    public var configPath: String?
    public var storage: StorageLocation = .sqlite(path: "brain-gateway.sqlite")
    public var redisURL: String?
    public var healthCheckIntervalSeconds: Int = 30
    public var serviceRegistryEnabled: Bool = true
    public var autoDiscovery: Bool = true
    public var limits = RequestLimits()
    /// How long in-flight requests may run after SIGTERM before connections are cut.
    public var shutdownDrainSeconds: Int = 30
    /// Extra PEM trust roots for `https` instances (private CAs), on top of the system's.
    public var upstreamCAFile: String?
    /// Event-loop threads; 0 means one per CPU this process may run on.
    public var eventLoopThreads: Int = 0
    /// Idle keep-alive connections kept per instance and event loop.
    public var upstreamMaxIdleConnections: Int = 64

    public init() {}
}

/// The whole configuration: process settings plus the services the YAML file declares.
public struct GatewayConfiguration: Sendable {
    public var settings: GatewaySettings
    public var services: [ServiceRoute]

    public init(settings: GatewaySettings, services: [ServiceRoute]) {
        self.settings = settings
        self.services = services
    }
}

/// A configuration problem, reported at start as one line naming the variable or YAML field.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// `BRAIN_GATEWAY_PORT`, or a YAML path such as `services[3].instances[0]`.
    public let field: String
    public let reason: String

    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "configuration error: \(field): \(reason)" }
}
