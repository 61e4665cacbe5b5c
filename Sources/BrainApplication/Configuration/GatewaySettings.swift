import BrainDomain
import Logging

/// Where the registry and events are stored (`DATABASE_URL`).
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

/// Limits the data plane enforces on client requests.
public struct RequestLimits: Sendable, Equatable {
    public var maxHeaderBytes: Int = 32 * 1024
    public var maxHeaderCount: Int = 100
    public var maxBodyBytes: Int64 = 1 << 30
    public var idleTimeoutSeconds: Int = 60
    public var headerTimeoutSeconds: Int = 10

    public init() {}
}

/// OpenTelemetry trace export (`OTEL_EXPORTER_OTLP_ENDPOINT`; the other standard `OTEL_*`
/// variables — protocol, headers, sampler, service name — are read by swift-otel itself).
public struct TracingSettings: Sendable, Equatable {
    public enum WireFormat: String, Sendable { case protobuf, json }
    /// Base URL; spans are posted to `<endpoint>/v1/traces`.
    public var endpoint: String
    public var format: WireFormat = .protobuf
    /// How long finished spans are batched before an export.
    public var exportDelayMilliseconds: Int = 5000

    public init(endpoint: String) {
        self.endpoint = endpoint
    }
}

/// Rate limiting while the shared state (Redis) is unreachable. Never a 5xx either way.
public enum SharedStateFailureMode: String, Sendable, CaseIterable {
    /// Each replica enforces its share of every limit (limit ÷ live replicas, rounded up).
    case local
    /// Every request is admitted.
    case open
    /// Every limited request is refused with 429.
    case closed
}

/// The process's settings, read once at start from the environment.
public struct GatewaySettings: Sendable {
    public var host: String = "0.0.0.0"
    public var port: Int = 8001
    public var logLevel: Logger.Level = .info
    public var configPath: String?
    public var storage: StorageLocation = .sqlite(path: "brain-gateway.sqlite")
    public var redisURL: String?
    /// How long a Redis call may take before the replica decides alone (`REDIS_TIMEOUT_MS`).
    public var redisTimeoutMilliseconds: Int = 50
    /// PEM CA certificates trusted for `rediss://`, on top of the system's (`REDIS_CA_FILE`).
    public var redisCAFile: String?
    /// What a replica does with its rate limits while Redis is unreachable (`REDIS_FAILURE_MODE`).
    public var redisFailureMode: SharedStateFailureMode = .local
    /// Replicas assumed when Redis never told how many are live (`BRAIN_GATEWAY_REPLICAS`).
    public var replicas: Int = 1
    public var healthCheckIntervalSeconds: Int = 30
    public var serviceRegistryEnabled: Bool = true
    public var autoDiscovery: Bool = true
    public var limits = RequestLimits()
    /// How long in-flight requests may run after SIGTERM before connections are cut.
    public var shutdownDrainSeconds: Int = 30
    /// Extra PEM trust roots for `https` instances (private CAs), on top of the system's.
    public var upstreamCAFile: String?
    /// HS256 key for client tokens (`JWT_SECRET`). A secret: never logged or echoed.
    public var jwtSecret: String?
    /// JWKS endpoint for RS256/ES256 keys (`JWT_JWKS_URL`).
    public var jwtJWKSURL: String?
    /// Seconds between scheduled JWKS fetches.
    public var jwksRefreshSeconds: Int = 300
    /// `AUTH_INTROSPECTION_URL` and its companions: opaque tokens are checked with the auth
    /// service (RFC 7662).
    public var introspection: IntrospectionSettings?
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    public var jwtLeewaySeconds: Int = 30
    /// Started with `--dev`: a random HS256 key is generated when none is configured.
    public var developmentMode = false
    /// Event-loop threads; 0 means one per CPU this process may run on.
    public var eventLoopThreads: Int = 0
    /// Idle keep-alive connections kept per instance and event loop.
    public var upstreamMaxIdleConnections: Int = 64
    /// Open connections (connecting, busy or idle) per instance and event loop; requests past
    /// it wait for one to come back.
    public var upstreamMaxConnections: Int = 1024
    /// Where finished spans go (OTLP/HTTP); nil leaves tracing off — only `traceparent` is
    /// propagated then.
    public var tracing: TracingSettings?
    /// Bytes of response bodies the response cache may hold (LRU beyond); 0 turns caching off.
    public var responseCacheBytes: Int = 64 << 20
    /// Owner role's URL for PostgreSQL migrations (`BRAIN_GATEWAY_MIGRATION_DATABASE_URL`); the
    /// gateway itself then runs as `DATABASE_URL`'s role, which owns nothing.
    public var migrationDatabaseURL: String?
    /// Domain events older than this are deleted.
    public var eventRetentionDays: Int = 30
    /// Finished workflow runs older than this are deleted (running ones never are).
    public var runRetentionDays: Int = 30
    /// Vault KV v2 for integration credentials; nil: the embedded encrypted store.
    public var vault: VaultSettings?
    /// Calls per (tenant, integration) per minute through the outbound proxy.
    public var integrationRequestsPerMinute: Int = 60

    public init() {}
}

/// The YAML file's `auth:` section.
public struct AuthSettings: Sendable, Equatable {
    /// Data-plane paths served without a token (whole path, or prefix ending at a `/`).
    public var publicPaths: [String] = []
    /// Required `iss` claim, when set.
    public var issuer: String?
    /// Required `aud` claim (one of), when set.
    public var audience: String?

    public init(publicPaths: [String] = [], issuer: String? = nil, audience: String? = nil) {
        self.publicPaths = publicPaths
        self.issuer = issuer
        self.audience = audience
    }
}

/// The whole configuration: process settings plus what the YAML file declares.
public struct GatewayConfiguration: Sendable {
    public var settings: GatewaySettings
    public var services: [ServiceRoute]
    public var auth: AuthSettings
    /// Per-tenant rate limits (the YAML's `tenants:`).
    public var tenantRateLimits: TenantRateLimits
    /// The YAML's `defaults:`, applied to admin-API documents too.
    public var serviceDefaults = ServiceDefaults()
    /// The YAML's `workflows:`.
    public var workflows: [WorkflowDocument] = []
    /// The YAML's `agents:` (the seed's tiers by default).
    public var agents = AgentSettings()
    /// YAML `integrations:`: entries added to the shipped catalogue, or replacing one by name.
    public var integrations: [Integration] = []
    /// The YAML's `optimizer:` (the seed's thresholds by default).
    public var optimizer = OptimiserSettings()
    /// The file has an `optimizer:` section: its self-healing workflow must then exist.
    public var optimizerConfigured = false

    public init(settings: GatewaySettings, services: [ServiceRoute], auth: AuthSettings = AuthSettings(), tenantRateLimits: TenantRateLimits = TenantRateLimits()) {
        self.settings = settings
        self.services = services
        self.auth = auth
        self.tenantRateLimits = tenantRateLimits
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

/// Where and how opaque bearer tokens are introspected (RFC 7662).
public struct IntrospectionSettings: Sendable, Equatable {
    public var url: String
    public var clientID: String?
    public var clientSecret: String?
    /// An active token's answer is reused at most this long (and never past its `exp`).
    public var cacheSeconds: Int = 300

    public init(url: String, clientID: String? = nil, clientSecret: String? = nil, cacheSeconds: Int = 300) {
        self.url = url
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.cacheSeconds = cacheSeconds
    }
}

/// Where Vault is and which KV v2 mount holds the gateway's secrets (`VAULT_ADDR`,
/// `VAULT_TOKEN`, `VAULT_KV_MOUNT`).
public struct VaultSettings: Sendable, Equatable {
    public var address: String
    public var token: String
    public var mount: String = "secret"
    public var cacheSeconds: Int = 60
    public var staleSeconds: Int = 600

    public init(address: String, token: String) {
        self.address = address.hasSuffix("/") ? String(address.dropLast()) : address
        self.token = token
    }
}
