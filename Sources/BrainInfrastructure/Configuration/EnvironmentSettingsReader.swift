import BrainApplication
import Foundation
import Logging

/// Reads `GatewaySettings` from environment variables (README, "Configuration"), refusing any
/// value it cannot use with a `ConfigurationError` that names the variable.
public struct EnvironmentSettingsReader: Sendable {
    private let environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    public func read() throws(ConfigurationError) -> GatewaySettings {
        var s = GatewaySettings()
        if let host = value("BRAIN_GATEWAY_HOST") {
            guard !host.contains(where: { $0 == " " || $0 == "/" }) else { throw ConfigurationError(field: "BRAIN_GATEWAY_HOST", reason: "'\(host)' is not a host name or address") }
            s.host = host
        }
        s.port = try integer("BRAIN_GATEWAY_PORT", default: s.port, range: 0...65535)
        if let level = value("LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                throw ConfigurationError(field: "LOG_LEVEL", reason: "'\(level)' is not one of trace, debug, info, notice, warning, error, critical")
            }
            s.logLevel = parsed
        }
        s.configPath = value("BRAIN_GATEWAY_CONFIG")
        if let url = value("DATABASE_URL") {
            s.storage = try Self.storage(url)
        }
        if let redis = value("REDIS_URL") {
            guard redis.hasPrefix("redis://") || redis.hasPrefix("rediss://") else {
                throw ConfigurationError(field: "REDIS_URL", reason: "must start with redis:// or rediss://")
            }
            s.redisURL = redis
        }
        if let file = value("REDIS_CA_FILE") {
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw ConfigurationError(field: "REDIS_CA_FILE", reason: "cannot read \(file)")
            }
            s.redisCAFile = file
        }
        s.redisTimeoutMilliseconds = try integer("REDIS_TIMEOUT_MS", default: s.redisTimeoutMilliseconds, range: 1...60_000)
        if let mode = value("REDIS_FAILURE_MODE") {
            guard let parsed = SharedStateFailureMode(rawValue: mode.lowercased()) else {
                throw ConfigurationError(field: "REDIS_FAILURE_MODE", reason: "'\(mode)' is not one of local, open, closed")
            }
            s.redisFailureMode = parsed
        }
        s.replicas = try integer("BRAIN_GATEWAY_REPLICAS", default: s.replicas, range: 1...10_000)
        s.healthCheckIntervalSeconds = try integer("HEALTH_CHECK_INTERVAL", default: s.healthCheckIntervalSeconds, range: 1...86_400)
        s.serviceRegistryEnabled = try boolean("SERVICE_REGISTRY_ENABLED", default: true)
        s.autoDiscovery = try boolean("AUTO_DISCOVERY", default: true)
        s.limits.maxHeaderBytes = try integer("BRAIN_GATEWAY_MAX_HEADER_BYTES", default: s.limits.maxHeaderBytes, range: 1024...(1 << 20))
        s.limits.maxHeaderCount = try integer("BRAIN_GATEWAY_MAX_HEADER_COUNT", default: s.limits.maxHeaderCount, range: 1...10_000)
        s.limits.maxBodyBytes = Int64(try integer("BRAIN_GATEWAY_MAX_BODY_BYTES", default: Int(s.limits.maxBodyBytes), range: 0...Int(Int64.max)))
        s.limits.idleTimeoutSeconds = try integer("BRAIN_GATEWAY_IDLE_TIMEOUT", default: s.limits.idleTimeoutSeconds, range: 1...86_400)
        s.limits.headerTimeoutSeconds = try integer("BRAIN_GATEWAY_HEADER_TIMEOUT", default: s.limits.headerTimeoutSeconds, range: 1...3_600)
        s.shutdownDrainSeconds = try integer("BRAIN_GATEWAY_SHUTDOWN_DRAIN", default: s.shutdownDrainSeconds, range: 0...3_600)
        s.upstreamMaxIdleConnections = try integer("BRAIN_GATEWAY_UPSTREAM_MAX_IDLE", default: s.upstreamMaxIdleConnections, range: 0...100_000)
        s.upstreamMaxConnections = try integer("BRAIN_GATEWAY_UPSTREAM_MAX_CONNECTIONS", default: s.upstreamMaxConnections, range: 1...1_000_000)
        s.upstreamCAFile = value("BRAIN_GATEWAY_UPSTREAM_CA_FILE")
        s.eventRetentionDays = try integer("BRAIN_GATEWAY_EVENT_RETENTION_DAYS", default: s.eventRetentionDays, range: 1...36_500)
        s.runRetentionDays = try integer("BRAIN_GATEWAY_RUN_RETENTION_DAYS", default: s.runRetentionDays, range: 1...36_500)
        if let url = value("BRAIN_GATEWAY_MIGRATION_DATABASE_URL") {
            guard url.hasPrefix("postgresql://") || url.hasPrefix("postgres://") else {
                throw ConfigurationError(field: "BRAIN_GATEWAY_MIGRATION_DATABASE_URL", reason: "must be a postgresql:// URL")
            }
            s.migrationDatabaseURL = url
        }
        s.responseCacheBytes = try integer("BRAIN_GATEWAY_CACHE_BYTES", default: s.responseCacheBytes, range: 0...(1 << 40))
        if let endpoint = value("OTEL_EXPORTER_OTLP_ENDPOINT") {
            guard let url = URL(string: endpoint), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw ConfigurationError(field: "OTEL_EXPORTER_OTLP_ENDPOINT", reason: "must be an http:// or https:// URL")
            }
            s.tracing = TracingSettings(endpoint: endpoint)
        }
        s.eventLoopThreads = try integer("BRAIN_GATEWAY_THREADS", default: 0, range: 0...1024)
        if let secret = value("JWT_SECRET") {
            // HS256 keys shorter than the hash (256 bits) are guessable offline from one token.
            guard secret.utf8.count >= 32 else {
                throw ConfigurationError(field: "JWT_SECRET", reason: "must be at least 32 bytes (the value is not shown)")
            }
            s.jwtSecret = secret
        }
        if let url = value("JWT_JWKS_URL") {
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw ConfigurationError(field: "JWT_JWKS_URL", reason: "must be an http(s) URL")
            }
            s.jwtJWKSURL = url
        }
        s.jwtLeewaySeconds = try integer("JWT_LEEWAY_SECONDS", default: s.jwtLeewaySeconds, range: 0...600)
        s.jwksRefreshSeconds = try integer("JWT_JWKS_REFRESH_SECONDS", default: s.jwksRefreshSeconds, range: 10...86_400)
        if let url = value("AUTH_INTROSPECTION_URL") {
            guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                throw ConfigurationError(field: "AUTH_INTROSPECTION_URL", reason: "must be an http(s) URL")
            }
            var introspection = IntrospectionSettings(url: url)
            introspection.clientID = value("AUTH_INTROSPECTION_CLIENT_ID")
            introspection.clientSecret = value("AUTH_INTROSPECTION_CLIENT_SECRET")
            if introspection.clientSecret != nil, introspection.clientID == nil {
                throw ConfigurationError(field: "AUTH_INTROSPECTION_CLIENT_ID", reason: "is required with AUTH_INTROSPECTION_CLIENT_SECRET")
            }
            introspection.cacheSeconds = try integer("AUTH_INTROSPECTION_CACHE_SECONDS", default: 300, range: 0...86_400)
            s.introspection = introspection
        }
        s.vault = try vault()
        s.integrationRequestsPerMinute = try integer("BRAIN_GATEWAY_INTEGRATION_RATE_LIMIT", default: s.integrationRequestsPerMinute, range: 1...1_000_000)
        return s
    }

    /// `VAULT_ADDR` with `VAULT_TOKEN` (one without the other is a mistake, not a fallback to
    /// the embedded store).
    private func vault() throws(ConfigurationError) -> VaultSettings? {
        let address = value("VAULT_ADDR"), token = value("VAULT_TOKEN")
        guard let address else {
            if token != nil { throw ConfigurationError(field: "VAULT_ADDR", reason: "is required with VAULT_TOKEN") }
            return nil
        }
        guard address.hasPrefix("http://") || address.hasPrefix("https://"), URL(string: address)?.host != nil else {
            throw ConfigurationError(field: "VAULT_ADDR", reason: "must be an http(s) URL")
        }
        guard let token else { throw ConfigurationError(field: "VAULT_TOKEN", reason: "is required with VAULT_ADDR") }
        guard token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw ConfigurationError(field: "VAULT_TOKEN", reason: "must be printable ASCII without spaces (the value is not shown)")
        }
        var settings = VaultSettings(address: address, token: token)
        if let mount = value("VAULT_KV_MOUNT") {
            guard !mount.isEmpty, mount.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x3F && $0 != 0x23 }), !mount.hasPrefix("/"), !mount.hasSuffix("/") else {
                throw ConfigurationError(field: "VAULT_KV_MOUNT", reason: "must be a mount path such as 'secret' (no leading or trailing '/')")
            }
            settings.mount = mount
        }
        settings.cacheSeconds = try integer("VAULT_CACHE_SECONDS", default: settings.cacheSeconds, range: 0...86_400)
        settings.staleSeconds = try integer("VAULT_STALE_SECONDS", default: settings.staleSeconds, range: 0...604_800)
        return settings
    }

    /// `sqlite:relative/path`, `sqlite:///absolute/path`, `postgresql://…` (or `postgres://…`).
    static func storage(_ url: String) throws(ConfigurationError) -> StorageLocation {
        if url.hasPrefix("postgresql://") || url.hasPrefix("postgres://") {
            return .postgres(url: url)
        }
        if url.hasPrefix("sqlite:") {
            var path = String(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else { throw ConfigurationError(field: "DATABASE_URL", reason: "sqlite: needs a file path") }
            return .sqlite(path: path)
        }
        throw ConfigurationError(field: "DATABASE_URL", reason: "must be sqlite:path, sqlite:///absolute/path or postgresql://…")
    }

    private func value(_ name: String) -> String? {
        guard let v = environment[name], !v.isEmpty else { return nil }
        return v
    }

    private func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = value(name) else { return fallback }
        guard let n = Int(text) else { throw ConfigurationError(field: name, reason: "'\(text)' is not an integer") }
        guard range.contains(n) else { throw ConfigurationError(field: name, reason: "\(n) is outside \(range.lowerBound)...\(range.upperBound)") }
        return n
    }

    private func boolean(_ name: String, default fallback: Bool) throws(ConfigurationError) -> Bool {
        guard let text = value(name) else { return fallback }
        switch text.lowercased() {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off": return false
        default: throw ConfigurationError(field: name, reason: "'\(text)' is not true or false")
        }
    }
}
