import BrainApplication
import BrainDomain
import Foundation
import Yams

/// What the YAML file (`BRAIN_GATEWAY_CONFIG`) declares.
public struct ServiceFile: Sendable {
    public var services: [ServiceRoute]
    public var auth: AuthSettings
    public var tenantRateLimits = TenantRateLimits()
    public var defaults = ServiceDefaults()
    public var workflows: [WorkflowDocument] = []
    public var agents = AgentSettings()
    public var integrations: [Integration] = []
    /// `optimizer:`; nil when the file has no such section (the defaults apply).
    public var optimizer: OptimiserSettings?

    public init(services: [ServiceRoute] = [], auth: AuthSettings = AuthSettings()) {
        self.services = services
        self.auth = auth
    }
}

extension ServiceFile {
    /// The gateway's configuration: `settings` from the environment, the rest from this file.
    public func configuration(settings: GatewaySettings) -> GatewayConfiguration {
        var configuration = GatewayConfiguration(settings: settings, services: services, auth: auth, tenantRateLimits: tenantRateLimits)
        configuration.serviceDefaults = defaults
        configuration.workflows = workflows
        configuration.agents = agents
        configuration.integrations = integrations
        if let optimizer {
            configuration.optimizer = optimizer
            configuration.optimizerConfigured = true
        }
        return configuration
    }
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
        try onlyKeys(top, ["services", "defaults", "auth", "tenants", "workflows", "agents", "integrations", "optimizer"], at: "")

        var defaults = ServiceDefaults()
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
        var file = ServiceFile(services: services, auth: auth)
        file.defaults = defaults
        if let node = top["tenants"] { file.tenantRateLimits = try parseTenants(node, services: services) }
        let workflows = WorkflowDocumentReader()
        if let node = top["integrations"] { file.integrations = try IntegrationCatalogueReader().entries(node, at: "integrations") }
        if let node = top["agents"] { file.agents = try workflows.agentSettings(node, at: "agents") }
        if let node = top["optimizer"] { file.optimizer = try OptimiserSettingsReader().settings(node, at: "optimizer") }
        if let list = top["workflows"] {
            guard case .sequence(let sequence) = list else { throw ConfigurationError(field: "workflows", reason: "must be a list") }
            var seen = Set<String>()
            for (index, node) in sequence.enumerated() {
                let workflow = try workflows.workflow(node, at: "workflows[\(index)]", tenant: nil)
                guard seen.insert((workflow.tenant?.value ?? "") + "/" + workflow.name.value).inserted else {
                    throw ConfigurationError(field: "workflows[\(index)].name", reason: "'\(workflow.name)' is declared twice")
                }
                let json = try workflows.json(node, at: "workflows[\(index)]", depth: 0).json
                file.workflows.append(WorkflowDocument(definition: workflow, json: json))
            }
        }
        return file
    }

    /// `tenants:` — a list of `{id, rate_limit?, services?: {<name>: {rate_limit}}}`.
    private func parseTenants(_ node: Node, services: [ServiceRoute]) throws(ConfigurationError) -> TenantRateLimits {
        guard case .sequence(let sequence) = node else { throw ConfigurationError(field: "tenants", reason: "must be a list") }
        var limits = TenantRateLimits()
        let names = Set(services.map(\.name.value))
        for (index, item) in sequence.enumerated() {
            let path = "tenants[\(index)]"
            let map = try mapping(item, at: path)
            try onlyKeys(map, ["id", "rate_limit", "services"], at: path)
            guard let idNode = map["id"] else { throw ConfigurationError(field: "\(path).id", reason: "is required") }
            let tenant: TenantID
            do { tenant = try TenantID(try string(idNode, at: "\(path).id")) } catch let error as ConfigurationError { throw error } catch {
                throw ConfigurationError(field: "\(path).id", reason: "\(error)")
            }
            guard limits.overrides[tenant] == nil else { throw ConfigurationError(field: "\(path).id", reason: "tenant is listed twice") }
            var override = TenantRateLimits.Override()
            if let n = map["rate_limit"] { override.all = try parseRateLimit(n, at: "\(path).rate_limit") }
            if let n = map["services"] {
                let perService = try mapping(n, at: "\(path).services")
                for (name, value) in perService.sorted(by: { $0.key < $1.key }) {
                    let at = "\(path).services.\(name)"
                    guard names.contains(name) else { throw ConfigurationError(field: at, reason: "no service named '\(name)' is declared") }
                    let entry = try mapping(value, at: at)
                    try onlyKeys(entry, ["rate_limit"], at: at)
                    if let r = entry["rate_limit"] { override.services[name] = try parseRateLimit(r, at: "\(at).rate_limit") }
                }
            }
            limits.overrides[tenant] = override
        }
        return limits
    }

    /// One service document in JSON (the admin API's body). JSON is YAML's flow syntax, so the
    /// document goes through exactly the YAML file's checks; errors name the field relative to
    /// the document (`instances[0]`, `routes[1].path`). A document that leaves `tenant_id` out
    /// (or null) belongs to `tenant`: the tenant the request addresses, if any.
    public func serviceDocument(json text: String, defaults: ServiceDefaults, tenant: TenantID? = nil) throws(ConfigurationError) -> ServiceRoute {
        let node = try documentNode(text)
        do {
            return try parseService(node, at: "", defaults: defaults, tenant: tenant)
        } catch {
            throw Self.relative(error)
        }
    }

    /// One route document in JSON (`POST /api/brain/services/{name}/routes`).
    public func routeDocument(json text: String) throws(ConfigurationError) -> RouteDefinition {
        let node = try documentNode(text)
        do {
            return try parseRoute(node, at: "")
        } catch {
            throw Self.relative(error)
        }
    }

    /// A JSON document as the YAML reader's tree. It is checked as JSON first (stricter than
    /// YAML), then written back out: JSON's escapes (surrogate pairs for characters beyond the
    /// BMP) are not all YAML's, while raw UTF-8 reads the same in both.
    func documentNode(_ text: String) throws(ConfigurationError) -> Node {
        let root: Node?
        do {
            let object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            guard object is [String: Any] else { throw ConfigurationError(field: "body", reason: "must be a JSON object") }
            let normalised = try JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])
            root = try Yams.compose(yaml: Self.escapingNonPrintable(String(decoding: normalised, as: UTF8.self)))
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(field: "body", reason: "not valid JSON")
        }
        guard let root, case .mapping = root else { throw ConfigurationError(field: "body", reason: "must be a JSON object") }
        return root
    }

    /// YAML refuses characters outside its printable set even inside quotes (DEL, the C1
    /// controls, U+FFFE/U+FFFF); JSON allows them raw. In JSON text they can only be inside
    /// strings, where `\uXXXX` means the same to both.
    static func escapingNonPrintable(_ json: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            let v = scalar.value
            let printable = v == 0x9 || v == 0xA || v == 0xD || (0x20...0x7E).contains(v) || v == 0x85 || (0xA0...0xD7FF).contains(v)
                || (0xE000...0xFFFD).contains(v) || v >= 0x10000
            guard !printable else {
                out.append(scalar)
                continue
            }
            let hex = String(v, radix: 16, uppercase: true)
            out.append(contentsOf: ("\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex).unicodeScalars)
        }
        return String(out)
    }

    /// Paths are built as parent + "." + key; a document's root has no name, so its fields come
    /// out as ".name" — made relative here.
    static func relative(_ error: ConfigurationError) -> ConfigurationError {
        guard error.field.hasPrefix(".") else { return error.field.isEmpty ? ConfigurationError(field: "body", reason: error.reason) : error }
        return ConfigurationError(field: String(error.field.dropFirst()), reason: error.reason)
    }

    private func parseDefaults(_ node: Node) throws(ConfigurationError) -> ServiceDefaults {
        let map = try mapping(node, at: "defaults")
        try onlyKeys(map, ["rate_limit", "circuit_breaker", "timeout_ms", "load_balancing", "retry", "cache", "health_check"], at: "defaults")
        var d = ServiceDefaults()
        if let n = map["timeout_ms"] { d.timeoutMilliseconds = try integer(n, at: "defaults.timeout_ms", min: 1) }
        if let n = map["rate_limit"] { d.rateLimit = try parseRateLimit(n, at: "defaults.rate_limit") }
        if let n = map["circuit_breaker"] { d.circuitBreaker = try parseBreaker(n, at: "defaults.circuit_breaker") }
        if let n = map["load_balancing"] { d.loadBalancing = try parseBalancing(n, at: "defaults.load_balancing") }
        if let n = map["retry"] { d.retry = try parseRetry(n, at: "defaults.retry", base: d.retry) }
        if let n = map["cache"] { d.cache = try parseCache(n, at: "defaults.cache", base: d.cache) }
        if let n = map["health_check"] { d.healthCheck = try parseHealthCheck(n, at: "defaults.health_check", base: d.healthCheck) }
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

    private func parseService(_ node: Node, at path: String, defaults: ServiceDefaults, tenant defaultTenant: TenantID? = nil) throws(ConfigurationError) -> ServiceRoute {
        let map = try mapping(node, at: path)
        try onlyKeys(map, [
            "name", "url", "instances", "base_path", "health_path", "tenant_id", "timeout_ms", "rate_limit", "circuit_breaker", "routes",
            "roles", "status", "load_balancing", "retry", "cache", "health_check",
        ], at: path)

        guard let nameNode = map["name"] else { throw ConfigurationError(field: "\(path).name", reason: "is required") }
        let nameText = try string(nameNode, at: "\(path).name")
        let name: ServiceName
        do { name = try ServiceName(nameText) } catch { throw ConfigurationError(field: "\(path).name", reason: error.description) }

        var instances: [UpstreamInstance] = []
        var weights: [Int] = []
        switch (map["url"], map["instances"]) {
        case (.some, .some):
            throw ConfigurationError(field: "\(path).url", reason: "give either url or instances, not both")
        case (.some(let n), nil):
            instances = [try instance(n, at: "\(path).url")]
            weights = [1]
        case (nil, .some(let n)):
            guard case .sequence(let seq) = n else { throw ConfigurationError(field: "\(path).instances", reason: "must be a list of URLs") }
            for (i, item) in seq.enumerated() {
                let at = "\(path).instances[\(i)]"
                if case .mapping = item {
                    // `{url: …, weight: n}`: the instance's share of traffic.
                    let entry = try mapping(item, at: at)
                    try onlyKeys(entry, ["url", "weight"], at: at)
                    guard let u = entry["url"] else { throw ConfigurationError(field: "\(at).url", reason: "is required") }
                    instances.append(try instance(u, at: "\(at).url"))
                    weights.append(try entry["weight"].map { n throws(ConfigurationError) in try integer(n, at: "\(at).weight", min: 1) } ?? 1)
                } else {
                    instances.append(try instance(item, at: at))
                    weights.append(1)
                }
            }
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

        var tenant = defaultTenant
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
        var balancing = defaults.loadBalancing
        if let n = map["load_balancing"] { balancing = try parseBalancing(n, at: "\(path).load_balancing") }
        var retry = defaults.retry
        if let n = map["retry"] { retry = try parseRetry(n, at: "\(path).retry", base: defaults.retry) }
        var cache = defaults.cache
        if let n = map["cache"] { cache = try parseCache(n, at: "\(path).cache", base: defaults.cache) }
        var healthCheck = defaults.healthCheck
        if let n = map["health_check"] { healthCheck = try parseHealthCheck(n, at: "\(path).health_check", base: defaults.healthCheck) }

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
                timeoutMilliseconds: timeout, circuitBreaker: breaker, rateLimit: rateLimit, defaultRoles: defaultRoles, routes: routes,
                loadBalancing: balancing, retry: retry, cache: cache, weights: weights, healthCheck: healthCheck)
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
            // Which methods a route may name is the domain's rule (`ServiceRoute.register`).
            for (i, item) in seq.enumerated() { methods.insert(HttpMethod(try string(item, at: "\(path).methods[\(i)]"))) }
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
        try onlyKeys(map, ["failure_threshold", "open_seconds", "max_open_seconds", "half_open_requests", "failure_statuses", "max_ejection_percent"], at: path)
        var b = CircuitBreakerThresholds.default
        if let n = map["failure_threshold"] { b.failureThreshold = try integer(n, at: "\(path).failure_threshold", min: 1) }
        if let n = map["open_seconds"] { b.openSeconds = try integer(n, at: "\(path).open_seconds", min: 1) }
        b.maxOpenSeconds = max(b.openSeconds, b.maxOpenSeconds)
        if let n = map["max_open_seconds"] {
            b.maxOpenSeconds = try integer(n, at: "\(path).max_open_seconds", min: b.openSeconds)
        }
        if let n = map["half_open_requests"] { b.halfOpenRequests = try integer(n, at: "\(path).half_open_requests", min: 1) }
        if let n = map["max_ejection_percent"] {
            b.maxEjectionPercent = try integer(n, at: "\(path).max_ejection_percent", min: 0)
            guard b.maxEjectionPercent <= 100 else { throw ConfigurationError(field: "\(path).max_ejection_percent", reason: "must be at most 100") }
        }
        if let n = map["failure_statuses"] {
            guard case .sequence(let seq) = n else { throw ConfigurationError(field: "\(path).failure_statuses", reason: "must be a list of status codes") }
            var statuses = Set<Int>()
            for (i, item) in seq.enumerated() {
                let code = try integer(item, at: "\(path).failure_statuses[\(i)]", min: 100)
                guard code <= 599 else { throw ConfigurationError(field: "\(path).failure_statuses[\(i)]", reason: "must be an HTTP status (100-599)") }
                statuses.insert(code)
            }
            b.failureStatuses = statuses
        }
        return b
    }

    private func parseBalancing(_ node: Node, at path: String) throws(ConfigurationError) -> LoadBalancingAlgorithm {
        let text = try string(node, at: path)
        guard let algorithm = LoadBalancingAlgorithm(rawValue: text) else {
            throw ConfigurationError(field: path, reason: "must be one of \(LoadBalancingAlgorithm.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return algorithm
    }

    private func parseRetry(_ node: Node, at path: String, base: RetrySettings) throws(ConfigurationError) -> RetrySettings {
        let map = try mapping(node, at: path)
        try onlyKeys(map, ["retries", "backoff_ms", "max_backoff_ms", "budget_percent", "budget_min_per_second"], at: path)
        var r = base
        if let n = map["retries"] { r.retries = try integer(n, at: "\(path).retries", min: 0) }
        if let n = map["backoff_ms"] { r.backoffBaseMilliseconds = try integer(n, at: "\(path).backoff_ms", min: 0) }
        if let n = map["max_backoff_ms"] { r.backoffCapMilliseconds = try integer(n, at: "\(path).max_backoff_ms", min: r.backoffBaseMilliseconds) }
        r.backoffCapMilliseconds = max(r.backoffCapMilliseconds, r.backoffBaseMilliseconds)
        if let n = map["budget_percent"] { r.budgetPercent = try integer(n, at: "\(path).budget_percent", min: 0) }
        if let n = map["budget_min_per_second"] { r.budgetMinPerSecond = try integer(n, at: "\(path).budget_min_per_second", min: 0) }
        return r
    }

    private func parseCache(_ node: Node, at path: String, base: CachePolicy) throws(ConfigurationError) -> CachePolicy {
        let map = try mapping(node, at: path)
        try onlyKeys(map, ["enabled", "ttl_seconds", "max_body_bytes"], at: path)
        var c = base
        if let n = map["enabled"] {
            guard let scalar = n.scalar, scalar.style == .plain, let flag = Bool(scalar.string) else {
                throw ConfigurationError(field: "\(path).enabled", reason: "must be true or false")
            }
            c.enabled = flag
        }
        if let n = map["ttl_seconds"] { c.ttlSeconds = try integer(n, at: "\(path).ttl_seconds", min: 1) }
        if let n = map["max_body_bytes"] { c.maxBodyBytes = try integer(n, at: "\(path).max_body_bytes", min: 0) }
        return c
    }

    private func parseHealthCheck(_ node: Node, at path: String, base: HealthCheckPolicy) throws(ConfigurationError) -> HealthCheckPolicy {
        let map = try mapping(node, at: path)
        try onlyKeys(map, ["unhealthy_threshold", "healthy_threshold"], at: path)
        var h = base
        if let n = map["unhealthy_threshold"] { h.unhealthyThreshold = try integer(n, at: "\(path).unhealthy_threshold", min: 1) }
        if let n = map["healthy_threshold"] { h.healthyThreshold = try integer(n, at: "\(path).healthy_threshold", min: 1) }
        return h
    }

    // MARK: Node access

    private func instance(_ node: Node, at path: String) throws(ConfigurationError) -> UpstreamInstance {
        let text = try string(node, at: path)
        do { return try UpstreamInstance(url: text) } catch { throw ConfigurationError(field: path, reason: error.description) }
    }

    func mapping(_ node: Node, at path: String) throws(ConfigurationError) -> [String: Node] {
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

    func onlyKeys(_ map: [String: Node], _ allowed: Set<String>, at path: String) throws(ConfigurationError) {
        for key in map.keys.sorted() where !allowed.contains(key) {
            throw ConfigurationError(field: path.isEmpty ? key : "\(path).\(key)", reason: "unknown field")
        }
    }

    /// `12`, or a number with no fractional part such as `12.0` or `1e3` (JSON Schema counts
    /// those as integers too).
    static func integerValue(_ text: String) -> Int? {
        if let n = Int(text) { return n }
        return Double(text).flatMap(JSONValue.wholeNumber).map(Int.init)
    }

    func isNull(_ node: Node) -> Bool {
        guard let s = node.scalar else { return false }
        return s.style == .plain && ["null", "~", ""].contains(s.string)
    }

    /// A string: quoted, or a plain scalar YAML does not read as `true`, `false` or a number (so
    /// `false` or `42` where text is expected is refused, in JSON and YAML alike).
    func string(_ node: Node, at path: String) throws(ConfigurationError) -> String {
        guard let s = node.scalar, !isNull(node) else { throw ConfigurationError(field: path, reason: "must be a string") }
        // YAML 1.1's other booleans (`on`, `off`, `yes`, `no`) stay text: a service may be named `off`.
        let isJSONBoolean = node.tag.rawValue == Tag.Name.bool.rawValue && (s.string == "true" || s.string == "false")
        if s.style == .plain, isJSONBoolean || [Tag.Name.int, .float].map(\.rawValue).contains(node.tag.rawValue) {
            throw ConfigurationError(field: path, reason: "must be a string")
        }
        return s.string
    }

    /// An integer: a plain scalar (a quoted "5" is text, not a number).
    func integer(_ node: Node, at path: String, min: Int) throws(ConfigurationError) -> Int {
        guard let s = node.scalar, s.style == .plain, let n = Self.integerValue(s.string) else {
            throw ConfigurationError(field: path, reason: "must be an integer")
        }
        guard n >= min else { throw ConfigurationError(field: path, reason: "must be at least \(min)") }
        return n
    }
}
