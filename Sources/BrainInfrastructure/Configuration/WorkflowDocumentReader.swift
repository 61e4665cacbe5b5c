import BrainApplication
import BrainDomain
import Yams

/// Reads workflow definitions: the YAML file's `workflows:` entries and the admin API's JSON
/// documents (JSON goes through the same reader, as for services). Everything the domain can
/// check is checked here; a problem names its field (`workflows[0].steps[2].when`).
public struct WorkflowDocumentReader: Sendable {
    private let nodes = ServiceFileLoader()

    public init() {}

    /// One workflow document in JSON; errors name fields relative to it (`steps[1].needs`).
    public func workflowDocument(json text: String, tenant: TenantID? = nil) throws(ConfigurationError) -> WorkflowDefinition {
        let node = try nodes.documentNode(text)
        do {
            return try workflow(node, at: "", tenant: tenant)
        } catch {
            throw ServiceFileLoader.relative(error)
        }
    }

    func workflow(_ node: Node, at path: String, tenant defaultTenant: TenantID?) throws(ConfigurationError) -> WorkflowDefinition {
        let map = try nodes.mapping(node, at: path)
        try nodes.onlyKeys(map, ["name", "tenant_id", "expose", "roles", "timeout_ms", "input", "steps", "response", "description"], at: path)
        guard let nameNode = map["name"] else { throw ConfigurationError(field: "\(path).name", reason: "is required") }
        let name: ServiceName
        do { name = try ServiceName(try nodes.string(nameNode, at: "\(path).name")) } catch let error as ConfigurationError { throw error } catch {
            throw ConfigurationError(field: "\(path).name", reason: "\(error)")
        }
        var tenant = defaultTenant
        if let t = map["tenant_id"], !nodes.isNull(t) {
            do { tenant = try TenantID(try nodes.string(t, at: "\(path).tenant_id")) } catch let error as ConfigurationError { throw error } catch {
                throw ConfigurationError(field: "\(path).tenant_id", reason: "\(error)")
            }
        }
        var roles: [String] = []
        if let r = map["roles"] { roles = try strings(r, at: "\(path).roles") }
        var timeout = WorkflowDefinition.defaultTimeoutMilliseconds
        if let t = map["timeout_ms"] { timeout = try nodes.integer(t, at: "\(path).timeout_ms", min: 1) }
        var interface = WorkflowInterface()
        do {
            if let e = map["expose"] { interface.expose = try exposure(e, at: "\(path).expose") }
            if let i = map["input"] { interface.input = try inputSchema(i, at: "\(path).input") }
            if let r = map["response"] {
                let m = try nodes.mapping(r, at: "\(path).response")
                try nodes.onlyKeys(m, ["status", "body"], at: "\(path).response")
                let status = try m["status"].map { n throws(ConfigurationError) in try nodes.integer(n, at: "\(path).response.status", min: 200) } ?? 200
                let body = try template(m["body"] ?? Node("null", Tag(.null)), at: "\(path).response.body")
                interface.response = try WorkflowInterface.Response(status: status, body: body)
            }
        } catch let violation as ServiceRoute.InvariantViolation {
            throw ConfigurationError(field: "\(path).\(violation.field)", reason: violation.reason)
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(field: path, reason: "\(error)")
        }
        guard let stepsNode = map["steps"] else { throw ConfigurationError(field: "\(path).steps", reason: "is required") }
        guard case .sequence(let sequence) = stepsNode else { throw ConfigurationError(field: "\(path).steps", reason: "must be a list") }
        var steps: [WorkflowStep] = []
        for (i, item) in sequence.enumerated() { steps.append(try step(item, at: "\(path).steps[\(i)]")) }
        do {
            return try WorkflowDefinition(name: name, tenant: tenant, roles: roles, timeoutMilliseconds: timeout, steps: steps, interface: interface)
        } catch {
            throw ConfigurationError(field: "\(path).\(error.field)", reason: error.reason)
        }
    }

    private func exposure(_ node: Node, at path: String) throws(ConfigurationError) -> WorkflowInterface.Exposure {
        let m = try nodes.mapping(node, at: path)
        try nodes.onlyKeys(m, ["method", "path"], at: path)
        let method = HttpMethod(try m["method"].map { n throws(ConfigurationError) in try nodes.string(n, at: "\(path).method") } ?? "POST")
        guard let p = m["path"] else { throw ConfigurationError(field: "\(path).path", reason: "is required") }
        let text = try nodes.string(p, at: "\(path).path")
        do { return try WorkflowInterface.Exposure(method: method, path: text) } catch {
            throw ConfigurationError(field: "\(path)\(error.field.dropFirst("expose".count))", reason: error.reason)
        }
    }

    private func inputSchema(_ node: Node, at path: String) throws(ConfigurationError) -> WorkflowInterface.InputSchema {
        let m = try nodes.mapping(node, at: path)
        try nodes.onlyKeys(m, ["required", "properties"], at: path)
        var schema = WorkflowInterface.InputSchema()
        if let r = m["required"] { schema.required = try strings(r, at: "\(path).required") }
        if let p = m["properties"] {
            for (name, kindNode) in try nodes.mapping(p, at: "\(path).properties") {
                let text = try nodes.string(kindNode, at: "\(path).properties.\(name)")
                guard let kind = WorkflowInterface.InputSchema.Kind(rawValue: text) else {
                    throw ConfigurationError(
                        field: "\(path).properties.\(name)",
                        reason: "'\(text)' is not one of \(WorkflowInterface.InputSchema.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                schema.properties[name] = kind
            }
        }
        return schema
    }

    private func step(_ node: Node, at path: String) throws(ConfigurationError) -> WorkflowStep {
        let m = try nodes.mapping(node, at: path)
        try nodes.onlyKeys(
            m, ["id", "call", "agent", "action", "with", "integration", "needs", "when", "timeout_ms", "retry", "optional", "fallback", "compensate"],
            at: path)
        guard let idNode = m["id"] else { throw ConfigurationError(field: "\(path).id", reason: "is required") }
        let id = try nodes.string(idNode, at: "\(path).id")
        let kinds = ["call", "agent", "integration"].filter { m[$0] != nil }
        guard kinds.count == 1 else {
            throw ConfigurationError(field: path, reason: "needs exactly one of call, agent or integration (has \(kinds.isEmpty ? "none" : kinds.joined(separator: ", ")))")
        }
        let action: WorkflowStep.Action
        if let c = m["call"] {
            action = .call(try serviceCall(c, at: "\(path).call"))
        } else if let a = m["agent"] {
            let text = try nodes.string(a, at: "\(path).agent")
            let name: Template
            do { name = try Template.parse(text) } catch { throw ConfigurationError(field: "\(path).agent", reason: error.description) }
            if case .constant(let literal) = name, !AgentRouter.isAgentName(literal) {
                throw ConfigurationError(field: "\(path).agent", reason: "'\(literal)' must match [a-z][a-z0-9_-]* (at most 63 characters), or be a {{ template }}")
            }
            guard let actionNode = m["action"] else { throw ConfigurationError(field: "\(path).action", reason: "is required with agent") }
            let verb = try nodes.string(actionNode, at: "\(path).action")
            let with = try template(m["with"] ?? Node("{{ input }}"), at: "\(path).with")
            action = .agent(name: name, action: verb, with: with)
        } else if let i = m["integration"] {
            let im = try nodes.mapping(i, at: "\(path).integration")
            try nodes.onlyKeys(im, ["name", "method", "path", "body"], at: "\(path).integration")
            guard let n = im["name"] else { throw ConfigurationError(field: "\(path).integration.name", reason: "is required") }
            let method = HttpMethod(try im["method"].map { x throws(ConfigurationError) in try nodes.string(x, at: "\(path).integration.method") } ?? "GET")
            guard let p = im["path"] else { throw ConfigurationError(field: "\(path).integration.path", reason: "is required") }
            action = .integration(
                name: try nodes.string(n, at: "\(path).integration.name"), method: method, path: try pathTemplate(p, at: "\(path).integration.path"),
                body: try im["body"].map { x throws(ConfigurationError) in try template(x, at: "\(path).integration.body") })
        } else {
            throw ConfigurationError(field: path, reason: "needs exactly one of call, agent or integration")
        }
        if m["call"] != nil || m["integration"] != nil {
            for key in ["action", "with"] where m[key] != nil {
                throw ConfigurationError(field: "\(path).\(key)", reason: "belongs to agent steps")
            }
        }
        var step = WorkflowStep(id: id, action: action)
        if let n = m["needs"] { step.needs = try strings(n, at: "\(path).needs") }
        if let w = m["when"] {
            let text = try nodes.string(w, at: "\(path).when")
            do { step.when = try Expression.parse(text) } catch { throw ConfigurationError(field: "\(path).when", reason: error.description) }
        }
        if let t = m["timeout_ms"] { step.timeoutMilliseconds = try nodes.integer(t, at: "\(path).timeout_ms", min: 1) }
        if let r = m["retry"] {
            let rm = try nodes.mapping(r, at: "\(path).retry")
            try nodes.onlyKeys(rm, ["attempts", "backoff_ms", "max_backoff_ms"], at: "\(path).retry")
            let defaults = WorkflowStep.Retry()
            let attempts = try rm["attempts"].map { n throws(ConfigurationError) in try nodes.integer(n, at: "\(path).retry.attempts", min: 1) }
            let backoff = try rm["backoff_ms"].map { n throws(ConfigurationError) in try nodes.integer(n, at: "\(path).retry.backoff_ms", min: 0) }
            let cap = try rm["max_backoff_ms"].map { n throws(ConfigurationError) in try nodes.integer(n, at: "\(path).retry.max_backoff_ms", min: 0) }
            step.retry = WorkflowStep.Retry(
                attempts: attempts ?? defaults.attempts, backoffMilliseconds: backoff ?? defaults.backoffMilliseconds,
                maxBackoffMilliseconds: cap ?? defaults.maxBackoffMilliseconds)
        }
        if let o = m["optional"] { step.optional = try boolean(o, at: "\(path).optional") }
        if let f = m["fallback"] { step.fallback = try json(f, at: "\(path).fallback", depth: 0) }
        if let c = m["compensate"] { step.compensate = try serviceCall(c, at: "\(path).compensate") }
        return step
    }

    private func serviceCall(_ node: Node, at path: String) throws(ConfigurationError) -> ServiceCall {
        let m = try nodes.mapping(node, at: path)
        try nodes.onlyKeys(m, ["service", "method", "path", "body", "headers"], at: path)
        guard let s = m["service"] else { throw ConfigurationError(field: "\(path).service", reason: "is required") }
        let service: ServiceName
        do { service = try ServiceName(try nodes.string(s, at: "\(path).service")) } catch let error as ConfigurationError { throw error } catch {
            throw ConfigurationError(field: "\(path).service", reason: "\(error)")
        }
        let method = HttpMethod(try m["method"].map { n throws(ConfigurationError) in try nodes.string(n, at: "\(path).method") } ?? "GET")
        guard HttpMethod.routable.contains(method) else {
            throw ConfigurationError(field: "\(path).method", reason: "'\(method)' is not one of \(HttpMethod.routableNames.joined(separator: ", "))")
        }
        guard let p = m["path"] else { throw ConfigurationError(field: "\(path).path", reason: "is required") }
        var call = ServiceCall(service: service, method: method, path: try pathTemplate(p, at: "\(path).path"))
        if let b = m["body"] { call.body = try template(b, at: "\(path).body") }
        if let h = m["headers"] {
            for (name, value) in try nodes.mapping(h, at: "\(path).headers") {
                guard Self.isToken(name), !Self.reservedHeaders.contains(name.lowercased()) else {
                    throw ConfigurationError(field: "\(path).headers.\(name)", reason: "is not a header a step may set")
                }
                let text = try nodes.string(value, at: "\(path).headers.\(name)")
                do { call.headers[name] = try Template.parse(text) } catch { throw ConfigurationError(field: "\(path).headers.\(name)", reason: error.description) }
            }
        }
        return call
    }

    /// Fields the gateway sets itself on a step's request; a definition cannot forge them.
    static let reservedHeaders: Set<String> = [
        "host", "content-length", "transfer-encoding", "connection", "x-tenant-id", "x-brain-token", "x-request-id", "traceparent",
        "tracestate", "idempotency-key", "x-brain-workflow", "x-brain-run-id", "authorization", "x-forwarded-for", "x-forwarded-proto",
        "x-forwarded-host", "forwarded", "upgrade", "te", "trailer", "keep-alive", "proxy-authorization",
    ]

    private static func isToken(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F }
    }

    private func pathTemplate(_ node: Node, at path: String) throws(ConfigurationError) -> Template {
        let text = try nodes.string(node, at: path)
        let template: Template
        do { template = try Template.parse(text) } catch { throw ConfigurationError(field: path, reason: error.description) }
        // The written parts must already be a path; values from expressions are encoded at run time.
        let literal: [String] = switch template {
        case .constant(let t): [t]
        case .whole: []
        case .interpolated(let parts): parts.compactMap { if case .text(let t) = $0 { return t }; return nil }
        }
        guard text.hasPrefix("/"), text.utf8.count <= 2048, !literal.contains(where: { $0.utf8.contains { $0 <= 0x20 || $0 == 0x7F } }) else {
            throw ConfigurationError(field: path, reason: "must start with '/' and contain no spaces or control characters outside {{ }}")
        }
        return template
    }

    private func template(_ node: Node, at path: String) throws(ConfigurationError) -> TemplateValue {
        let value = try json(node, at: path, depth: 0)
        do { return try TemplateValue.parse(value) } catch { throw ConfigurationError(field: path, reason: error.description) }
    }

    /// A YAML/JSON node as a JSON value: plain scalars by their resolved type, quoted ones as text.
    func json(_ node: Node, at path: String, depth: Int) throws(ConfigurationError) -> JSONValue {
        guard depth < 32 else { throw ConfigurationError(field: path, reason: "nested deeper than 32") }
        switch node {
        case .scalar(let s):
            guard s.style == .plain else { return .string(s.string) }
            if nodes.isNull(node) { return .null }
            switch node.tag.rawValue {
            case Tag.Name.bool.rawValue where s.string == "true" || s.string == "false": return .bool(s.string == "true")
            case Tag.Name.int.rawValue, Tag.Name.float.rawValue:
                if let n = Double(s.string), n.isFinite { return .number(n) }
                if let n = Int(s.string) { return .number(Double(n)) }
                return .string(s.string)
            default: return .string(s.string)
            }
        case .sequence(let sequence):
            var out: [JSONValue] = []
            for (i, item) in sequence.enumerated() { out.append(try json(item, at: "\(path)[\(i)]", depth: depth + 1)) }
            return .array(out)
        case .mapping:
            var out: [String: JSONValue] = [:]
            for (key, value) in try nodes.mapping(node, at: path) { out[key] = try json(value, at: "\(path).\(key)", depth: depth + 1) }
            return .object(out)
        case .alias:
            throw ConfigurationError(field: path, reason: "YAML aliases are not supported here")
        }
    }

    /// `agents:` — where agents run and the crew tiers (the seed's table by default).
    func agentSettings(_ node: Node, at path: String) throws(ConfigurationError) -> AgentSettings {
        let m = try nodes.mapping(node, at: path)
        try nodes.onlyKeys(m, ["service", "execute_path", "catalog_path", "timeout_ms", "retry", "tiers"], at: path)
        var settings = AgentSettings()
        if let s = m["service"] {
            do { settings.service = try ServiceName(try nodes.string(s, at: "\(path).service")) } catch let error as ConfigurationError { throw error } catch {
                throw ConfigurationError(field: "\(path).service", reason: "\(error)")
            }
        }
        for (key, keyPath) in [("execute_path", \AgentSettings.executePath), ("catalog_path", \AgentSettings.catalogPath)] {
            guard let n = m[key] else { continue }
            let text = try nodes.string(n, at: "\(path).\(key)")
            guard text.hasPrefix("/"), !text.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
                throw ConfigurationError(field: "\(path).\(key)", reason: "must be a path starting with '/'")
            }
            settings[keyPath: keyPath] = text
        }
        if let t = m["timeout_ms"] {
            settings.timeoutMilliseconds = try nodes.integer(t, at: "\(path).timeout_ms", min: 1)
            guard settings.timeoutMilliseconds <= ServiceRoute.Limits.maxTimeoutMilliseconds else {
                throw ConfigurationError(field: "\(path).timeout_ms", reason: "must be at most \(ServiceRoute.Limits.maxTimeoutMilliseconds)")
            }
        }
        if let r = m["retry"] {
            let rm = try nodes.mapping(r, at: "\(path).retry")
            try nodes.onlyKeys(rm, ["attempts"], at: "\(path).retry")
            if let a = rm["attempts"] { settings.retryAttempts = try nodes.integer(a, at: "\(path).retry.attempts", min: 1) }
            guard settings.retryAttempts <= 10 else { throw ConfigurationError(field: "\(path).retry.attempts", reason: "must be 1-10") }
        }
        if let t = m["tiers"] {
            var tiers: [AgentSettings.Pattern: [String]] = [:]
            let tm = try nodes.mapping(t, at: "\(path).tiers")
            try nodes.onlyKeys(tm, ["four_agent", "three_agent", "two_agent"], at: "\(path).tiers")
            for (key, list) in tm {
                guard let pattern = AgentSettings.Pattern(rawValue: key) else { continue }
                tiers[pattern] = try strings(list, at: "\(path).tiers.\(key)")
            }
            settings.tiers = tiers
        }
        return settings
    }

    private func strings(_ node: Node, at path: String) throws(ConfigurationError) -> [String] {
        guard case .sequence(let sequence) = node else { throw ConfigurationError(field: path, reason: "must be a list") }
        var out: [String] = []
        for (i, item) in sequence.enumerated() { out.append(try nodes.string(item, at: "\(path)[\(i)]")) }
        return out
    }

    private func boolean(_ node: Node, at path: String) throws(ConfigurationError) -> Bool {
        guard case .scalar(let s) = node, s.style == .plain, s.string == "true" || s.string == "false" else {
            throw ConfigurationError(field: path, reason: "must be true or false")
        }
        return s.string == "true"
    }
}
