import BrainApplication
import BrainDomain
import Yams

/// What the YAML file (`BRAIN_GATEWAY_CONFIG`) declares.
public struct ServiceFile: Sendable {
    public var services: [ServiceRoute]
    public var auth: AuthSettings
}

/// Loads the YAML file of service documents. Every value is checked; the first problem is
/// reported as a `ConfigurationError` naming its YAML path (`services[3].instances[0]`).
/// Unknown keys are refused so a typo never silently becomes a default.
public struct ServiceFileLoader: Sendable {
    public init() {}

    public func load(yaml text: String) throws(ConfigurationError) -> ServiceFile {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError(field: "BRAIN_GATEWAY_CONFIG", reason: "not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
        guard let root else { return ServiceFile(services: [], auth: AuthSettings()) }
        let top = try mapping(root, at: "")
        try onlyKeys(top, ["services", "defaults", "auth"], at: "")

        var defaults = Defaults()
        if let node = top["defaults"] { defaults = try parseDefaults(node) }
        var auth = AuthSettings()
        if let node = top["auth"] { auth = try parseAuth(node) }

        var services: [ServiceRoute] = []
        if let list = top["services"] {
            guard case .sequence(let sequence) = list else { throw ConfigurationError(field: "services", reason: "must be a list") }
            var seen = Set<String>()
            for (index, node) in sequence.enumerated() {
                let service = try parseService(node, at: "services[\(index)]", defaults: defaults)
                let key = (service.tenant?.value ?? "") + "/" + service.name.value
                guard seen.insert(key).inserted else {
                    throw ConfigurationError(field: "services[\(index)].name", reason: "'\(service.name)' is declared twice")
                }
                services.append(service)
            }
        }
        return ServiceFile(services: services, auth: auth)
    }

    private struct Defaults {
        var timeoutMilliseconds = 30_000
        var rateLimit = RateLimitPolicy.default
        var circuitBreaker = CircuitBreakerThresholds.default
    }

    private func parseDefaults(_ node: Node) throws(ConfigurationError) -> Defaults {
        let map = try mapping(node, at: "defaults")
        try onlyKeys(map, ["rate_limit", "circuit_breaker", "timeout_ms"], at: "defaults")
        var d = Defaults()
        if let n = map["timeout_ms"] { d.timeoutMilliseconds = try integer(n, at: "defaults.timeout_ms", min: 1) }
        if let n = map["rate_limit"] { d.rateLimit = try parseRateLimit(n, at: "defaults.rate_limit") }
        if let n = map["circuit_breaker"] { d.circuitBreaker = try parseBreaker(n, at: "defaults.circuit_breaker") }
        return d
    }

    private func parseAuth(_ node: Node) throws(ConfigurationError) -> AuthSettings {
        let map = try mapping(node, at: "auth")
        try onlyKeys(map, ["public_paths", "issuer", "audience"], at: "auth")
        var a = AuthSettings()
        if let n = map["public_paths"] {
            guard case .sequence(let seq) = n else { throw ConfigurationError(field: "auth.public_paths", reason: "must be a list") }
            for (i, item) in seq.enumerated() {
                let path = try string(item, at: "auth.public_paths[\(i)]")
                guard path.first == "/" else { throw ConfigurationError(field: "auth.public_paths[\(i)]", reason: "must start with '/'") }
                a.publicPaths.append(path)
            }
        }
        if let n = map["issuer"] { a.issuer = try string(n, at: "auth.issuer") }
        if let n = map["audience"] { a.audience = try string(n, at: "auth.audience") }
        return a
    }

    private func parseService(_ node: Node, at path: String, defaults: Defaults) throws(ConfigurationError) -> ServiceRoute {
        let map = try mapping(node, at: path)
        try onlyKeys(map, ["name", "url", "instances", "base_path", "health_path", "tenant_id", "timeout_ms", "rate_limit", "circuit_breaker", "routes", "roles", "status"], at: path)

        guard let nameNode = map["name"] else { throw ConfigurationError(field: "\(path).name", reason: "is required") }
        let nameText = try string(nameNode, at: "\(path).name")
        let name: ServiceName
        do { name = try ServiceName(nameText) } catch { throw ConfigurationError(field: "\(path).name", reason: error.description) }

        var instances: [UpstreamInstance] = []
        switch (map["url"], map["instances"]) {
        case (.some, .some):
            throw ConfigurationError(field: "\(path).url", reason: "give either url or instances, not both")
        case (.some(let n), nil):
            instances = [try instance(n, at: "\(path).url")]
        case (nil, .some(let n)):
            guard case .sequence(let seq) = n else { throw ConfigurationError(field: "\(path).instances", reason: "must be a list of URLs") }
            for (i, item) in seq.enumerated() { instances.append(try instance(item, at: "\(path).instances[\(i)]")) }
        case (nil, nil):
            throw ConfigurationError(field: "\(path).instances", reason: "is required (or url)")
        }

        var basePath = BasePath.root
        if let n = map["base_path"] {
            let text = try string(n, at: "\(path).base_path")
            do { basePath = try BasePath(text) } catch { throw ConfigurationError(field: "\(path).base_path", reason: error.description) }
        }
        var healthPath = "/health"
        if let n = map["health_path"] { healthPath = try string(n, at: "\(path).health_path") }

        var tenant: TenantID?
        if let n = map["tenant_id"], !isNull(n) {
            let text = try string(n, at: "\(path).tenant_id")
            do { tenant = try TenantID(text) } catch { throw ConfigurationError(field: "\(path).tenant_id", reason: error.description) }
        }
        var timeout = defaults.timeoutMilliseconds
        if let n = map["timeout_ms"] { timeout = try integer(n, at: "\(path).timeout_ms", min: 1) }
        var rateLimit = defaults.rateLimit
        if let n = map["rate_limit"] { rateLimit = try parseRateLimit(n, at: "\(path).rate_limit") }
        var breaker = defaults.circuitBreaker
        if let n = map["circuit_breaker"] { breaker = try parseBreaker(n, at: "\(path).circuit_breaker") }

        var defaultRoles: [String] = []
        if let n = map["roles"] {
            guard case .sequence(let seq) = n else { throw ConfigurationError(field: "\(path).roles", reason: "must be a list") }
            for (i, item) in seq.enumerated() { defaultRoles.append(try string(item, at: "\(path).roles[\(i)]")) }
        }
        var routes: [RouteDefinition] = []
        if let n = map["routes"] {
            guard case .sequence(let seq) = n else { throw ConfigurationError(field: "\(path).routes", reason: "must be a list") }
            for (i, item) in seq.enumerated() { routes.append(try parseRoute(item, at: "\(path).routes[\(i)]")) }
        }
        do {
            return try ServiceRoute(
                name: name, tenant: tenant, instances: instances, basePath: basePath, healthPath: healthPath,
                timeoutMilliseconds: timeout, circuitBreaker: breaker, rateLimit: rateLimit, defaultRoles: defaultRoles, routes: routes)
        } catch {
            throw ConfigurationError(field: "\(path).\(error.field)", reason: error.reason)
        }
    }

    private func parseRoute(_ node: Node, at path: String) throws(ConfigurationError) -> RouteDefinition {
        let map = try mapping(node, at: path)
        try onlyKeys(map, ["path", "methods", "roles"], at: path)
        guard let p = map["path"] else { throw ConfigurationError(field: "\(path).path", reason: "is required") }
        let text = try string(p, at: "\(path).path")
        let pattern: RoutePattern
        do { pattern = try RoutePattern(text) } catch { throw ConfigurationError(field: "\(path).path", reason: error.description) }
        var methods = Set<HttpMethod>()
        if let n = map["methods"] {
            guard case .sequence(let seq) = n else { throw ConfigurationError(field: "\(path).methods", reason: "must be a list") }
            for (i, item) in seq.enumerated() {
                let m = try string(item, at: "\(path).methods[\(i)]").uppercased()
                guard !m.isEmpty, m.utf8.allSatisfy({ ($0 >= 65 && $0 <= 90) || $0 == UInt8(ascii: "-") }) else {
                    throw ConfigurationError(field: "\(path).methods[\(i)]", reason: "'\(m)' is not an HTTP method")
                }
                methods.insert(HttpMethod(m))
            }
        }
        var roles: [String] = []
        if let n = map["roles"] {
            guard case .sequence(let seq) = n else { throw ConfigurationError(field: "\(path).roles", reason: "must be a list") }
            for (i, item) in seq.enumerated() { roles.append(try string(item, at: "\(path).roles[\(i)]")) }
        }
        return RouteDefinition(pattern: pattern, methods: methods, roles: roles)
    }

    private func parseRateLimit(_ node: Node, at path: String) throws(ConfigurationError) -> RateLimitPolicy {
        let map = try mapping(node, at: path)
        try onlyKeys(map, ["requests", "window_seconds"], at: path)
        var p = RateLimitPolicy.default
        if let n = map["requests"] { p.requests = try integer(n, at: "\(path).requests", min: 1) }
        if let n = map["window_seconds"] { p.windowSeconds = try integer(n, at: "\(path).window_seconds", min: 1) }
        return p
    }

    private func parseBreaker(_ node: Node, at path: String) throws(ConfigurationError) -> CircuitBreakerThresholds {
        let map = try mapping(node, at: path)
        try onlyKeys(map, ["failure_threshold", "open_seconds"], at: path)
        var b = CircuitBreakerThresholds.default
        if let n = map["failure_threshold"] { b.failureThreshold = try integer(n, at: "\(path).failure_threshold", min: 1) }
        if let n = map["open_seconds"] { b.openSeconds = try integer(n, at: "\(path).open_seconds", min: 1) }
        return b
    }

    // MARK: Node access

    private func instance(_ node: Node, at path: String) throws(ConfigurationError) -> UpstreamInstance {
        let text = try string(node, at: path)
        do { return try UpstreamInstance(url: text) } catch { throw ConfigurationError(field: path, reason: error.description) }
    }

    private func mapping(_ node: Node, at path: String) throws(ConfigurationError) -> [String: Node] {
        guard case .mapping(let m) = node else {
            throw ConfigurationError(field: path.isEmpty ? "BRAIN_GATEWAY_CONFIG" : path, reason: "must be a mapping")
        }
        var out: [String: Node] = [:]
        for (key, value) in m {
            guard let k = key.scalar?.string else { throw ConfigurationError(field: path, reason: "keys must be strings") }
            out[k] = value
        }
        return out
    }

    private func onlyKeys(_ map: [String: Node], _ allowed: Set<String>, at path: String) throws(ConfigurationError) {
        for key in map.keys.sorted() where !allowed.contains(key) {
            throw ConfigurationError(field: path.isEmpty ? key : "\(path).\(key)", reason: "unknown field")
        }
    }

    private func isNull(_ node: Node) -> Bool {
        guard let s = node.scalar else { return false }
        return s.style == .plain && ["null", "~", ""].contains(s.string)
    }

    private func string(_ node: Node, at path: String) throws(ConfigurationError) -> String {
        guard let s = node.scalar, !isNull(node) else { throw ConfigurationError(field: path, reason: "must be a string") }
        return s.string
    }

    private func integer(_ node: Node, at path: String, min: Int) throws(ConfigurationError) -> Int {
        guard let s = node.scalar, let n = Int(s.string) else { throw ConfigurationError(field: path, reason: "must be an integer") }
        guard n >= min else { throw ConfigurationError(field: path, reason: "must be at least \(min)") }
        return n
    }
}
