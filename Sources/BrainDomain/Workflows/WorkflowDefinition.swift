/// A workflow as data: a small DAG of steps that call services, agents or integrations.
///
/// Everything that can be checked without the registry is checked here, when the workflow is
/// defined — step ids, `needs` (unknown ids and cycles), expressions and templates, bounds — so
/// a run never discovers a mistake half-way. Whether the services it calls exist is the
/// application layer's check (it knows the registry).
public struct WorkflowDefinition: Sendable, Equatable {
    public let name: ServiceName
    public let tenant: TenantID?
    public var roles: [String]
    public var timeoutMilliseconds: Int
    public private(set) var steps: [WorkflowStep]
    public private(set) var interface: WorkflowInterface

    public static let defaultTimeoutMilliseconds = 30_000

    public init(
        name: ServiceName, tenant: TenantID? = nil, roles: [String] = [], timeoutMilliseconds: Int = defaultTimeoutMilliseconds,
        steps: [WorkflowStep], interface: WorkflowInterface = WorkflowInterface()
    ) throws(ServiceRoute.InvariantViolation) {
        guard !steps.isEmpty else { throw .invalid(field: "steps", reason: "at least one step is required") }
        guard steps.count <= 64 else { throw .invalid(field: "steps", reason: "at most 64 steps") }
        guard (1...ServiceRoute.Limits.maxTimeoutMilliseconds).contains(timeoutMilliseconds) else {
            throw .invalid(field: "timeout_ms", reason: "must be 1-\(ServiceRoute.Limits.maxTimeoutMilliseconds)")
        }
        var index: [String: Int] = [:]
        for (i, step) in steps.enumerated() {
            guard WorkflowStep.isValidID(step.id) else {
                throw .invalid(field: "steps[\(i)].id", reason: "'\(step.id)' must match [a-z][a-z0-9_]* (at most 63 characters)")
            }
            guard index[step.id] == nil else { throw .invalid(field: "steps[\(i)].id", reason: "'\(step.id)' is used by another step") }
            index[step.id] = i
        }
        for (i, step) in steps.enumerated() {
            for need in step.needs where index[need] == nil {
                throw .invalid(field: "steps[\(i)].needs", reason: "'\(need)' is not a step of this workflow")
            }
            for (field, referenced) in step.referencedSteps {
                for id in referenced.sorted() where index[id] == nil {
                    throw .invalid(field: "steps[\(i)].\(field)", reason: "reads steps.\(id), which is not a step of this workflow")
                }
            }
            try step.checkBounds(field: "steps[\(i)]")
        }
        if let response = interface.response {
            for id in response.body.referencedSteps.sorted() where index[id] == nil {
                throw .invalid(field: "response.body", reason: "reads steps.\(id), which is not a step of this workflow")
            }
        }
        if let cycle = Self.cycle(in: steps, index: index) {
            throw .invalid(field: "steps[\(index[cycle[0]] ?? 0)].needs", reason: "the needs form a cycle: \(cycle.joined(separator: " → "))")
        }
        self.name = name
        self.tenant = tenant
        self.roles = roles
        self.timeoutMilliseconds = timeoutMilliseconds
        self.steps = steps
        self.interface = interface
    }

    /// The index of the step named `id`.
    public func stepIndex(_ id: String) -> Int? { steps.firstIndex { $0.id == id } }

    /// A cycle through `needs`, as the ids along it (first repeated at the end), if there is one.
    static func cycle(in steps: [WorkflowStep], index: [String: Int]) -> [String]? {
        enum Mark { case visiting, done }
        var marks: [Int: Mark] = [:]
        var path: [Int] = []
        func visit(_ i: Int) -> [String]? {
            switch marks[i] {
            case .done?: return nil
            case .visiting?:
                let start = path.firstIndex(of: i) ?? 0
                return (path[start...] + [i]).map { steps[$0].id }
            case nil: break
            }
            marks[i] = .visiting
            path.append(i)
            for need in steps[i].needs {
                if let j = index[need], let found = visit(j) { return found }
            }
            path.removeLast()
            marks[i] = .done
            return nil
        }
        for i in steps.indices { if let found = visit(i) { return found } }
        return nil
    }
}

/// One step of a workflow.
public struct WorkflowStep: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// A request to a registered service, through the gateway's own routing.
        case call(ServiceCall)
        /// An AI agent (or an integration's crew) run by the agents service; the name may be a
        /// template (`{{ input.integration }}`: the crew of the request's integration).
        case agent(name: Template, action: String, with: TemplateValue)
        /// A request through an integration's outbound proxy.
        case integration(name: String, method: HttpMethod, path: Template, body: TemplateValue?)
    }

    public struct Retry: Sendable, Equatable {
        /// Attempts in all (1 = no retry).
        public var attempts: Int
        public var backoffMilliseconds: Int
        public var maxBackoffMilliseconds: Int

        public init(attempts: Int = 1, backoffMilliseconds: Int = 100, maxBackoffMilliseconds: Int = 2000) {
            self.attempts = attempts
            self.backoffMilliseconds = backoffMilliseconds
            self.maxBackoffMilliseconds = max(backoffMilliseconds, maxBackoffMilliseconds)
        }
    }

    public static let defaultTimeoutMilliseconds = 10_000

    public var id: String
    public var action: Action
    public var needs: [String]
    public var when: Expression?
    public var timeoutMilliseconds: Int
    public var retry: Retry
    public var optional: Bool
    public var fallback: JSONValue?
    public var compensate: ServiceCall?

    public init(
        id: String, action: Action, needs: [String] = [], when: Expression? = nil, timeoutMilliseconds: Int = defaultTimeoutMilliseconds,
        retry: Retry = Retry(), optional: Bool = false, fallback: JSONValue? = nil, compensate: ServiceCall? = nil
    ) {
        self.id = id
        self.action = action
        self.needs = needs
        self.when = when
        self.timeoutMilliseconds = timeoutMilliseconds
        self.retry = retry
        self.optional = optional
        self.fallback = fallback
        self.compensate = compensate
    }

    static func isValidID(_ id: String) -> Bool {
        guard let first = id.utf8.first, first >= UInt8(ascii: "a"), first <= UInt8(ascii: "z"), id.utf8.count <= 63 else { return false }
        return id.utf8.allSatisfy { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_") }
    }

    /// The step ids each of the step's fields reads, by field name.
    var referencedSteps: [(String, Set<String>)] {
        var out: [(String, Set<String>)] = []
        if let when { out.append(("when", when.referencedSteps)) }
        switch action {
        case .call(let call): out += call.referencedSteps.map { ("call.\($0.0)", $0.1) }
        case .agent(let name, _, let with):
            out.append(("agent", name.referencedSteps))
            out.append(("with", with.referencedSteps))
        case .integration(_, _, let path, let body):
            out.append(("integration.path", path.referencedSteps))
            if let body { out.append(("integration.body", body.referencedSteps)) }
        }
        if let compensate { out += compensate.referencedSteps.map { ("compensate.\($0.0)", $0.1) } }
        return out
    }

    func checkBounds(field: String) throws(ServiceRoute.InvariantViolation) {
        guard (1...ServiceRoute.Limits.maxTimeoutMilliseconds).contains(timeoutMilliseconds) else {
            throw .invalid(field: field + ".timeout_ms", reason: "must be 1-\(ServiceRoute.Limits.maxTimeoutMilliseconds)")
        }
        guard (1...10).contains(retry.attempts) else { throw .invalid(field: field + ".retry.attempts", reason: "must be 1-10") }
        guard (0...60_000).contains(retry.backoffMilliseconds), retry.maxBackoffMilliseconds <= 60_000 else {
            throw .invalid(field: field + ".retry", reason: "backoff_ms and max_backoff_ms must be 0-60000")
        }
        for method in [callMethod, compensate?.method].compactMap({ $0 }) where !HttpMethod.routable.contains(method) {
            throw .invalid(field: field + ".method", reason: "'\(method)' is not one of \(HttpMethod.routableNames.joined(separator: ", "))")
        }
    }

    private var callMethod: HttpMethod? {
        switch action {
        case .call(let call): call.method
        case .integration(_, let method, _, _): method
        case .agent: nil
        }
    }
}

/// A request a step makes to a registered service (also a compensation).
public struct ServiceCall: Sendable, Equatable {
    public var service: ServiceName
    public var method: HttpMethod
    public var path: Template
    public var body: TemplateValue?
    public var headers: [String: Template]

    public init(service: ServiceName, method: HttpMethod, path: Template, body: TemplateValue? = nil, headers: [String: Template] = [:]) {
        self.service = service
        self.method = method
        self.path = path
        self.body = body
        self.headers = headers
    }

    var referencedSteps: [(String, Set<String>)] {
        var out: [(String, Set<String>)] = [("path", path.referencedSteps)]
        if let body { out.append(("body", body.referencedSteps)) }
        for name in headers.keys.sorted() { out.append(("headers.\(name)", headers[name]?.referencedSteps ?? [])) }
        return out
    }
}

/// A JSON document whose strings may be templates: a step's body, an agent's input, a
/// workflow's response. Evaluated into plain JSON at run time.
public indirect enum TemplateValue: Sendable, Equatable {
    case value(JSONValue)
    case template(Template)
    case array([TemplateValue])
    case object([String: TemplateValue])

    /// Parses every string of `json` as a template; `path` names the field in errors.
    public static func parse(_ json: JSONValue, limits: Expression.Limits = .default) throws(Expression.ParseError) -> TemplateValue {
        switch json {
        case .string(let text):
            let template = try Template.parse(text, limits: limits)
            if case .constant = template { return .value(json) }
            return .template(template)
        case .array(let elements):
            var out: [TemplateValue] = []
            for element in elements { out.append(try parse(element, limits: limits)) }
            return .array(out)
        case .object(let members):
            var out: [String: TemplateValue] = [:]
            for (key, member) in members { out[key] = try parse(member, limits: limits) }
            return .object(out)
        default:
            return .value(json)
        }
    }

    public func evaluate(in scope: JSONValue) -> JSONValue {
        switch self {
        case .value(let v): v
        case .template(let t): t.evaluate(in: scope)
        case .array(let elements): .array(elements.map { $0.evaluate(in: scope) })
        case .object(let members): .object(members.mapValues { $0.evaluate(in: scope) })
        }
    }

    public var referencedSteps: Set<String> {
        switch self {
        case .value: []
        case .template(let t): t.referencedSteps
        case .array(let elements): elements.reduce(into: Set<String>()) { $0.formUnion($1.referencedSteps) }
        case .object(let members): members.values.reduce(into: Set<String>()) { $0.formUnion($1.referencedSteps) }
        }
    }
}
