import BrainDomain
import Synchronization

/// The workflows a gateway can run, by (tenant, name): a tenant's own workflow shadows a global
/// one of the same name, as services do. Also answers which workflow an `expose` alias names.
public final class WorkflowCatalog: Sendable {
    private struct Key: Hashable {
        let tenant: TenantID?
        let name: ServiceName
    }

    /// The definitions, and those with an `expose` alias by its path: every control-plane
    /// request asks whether its path is an alias, so that is one dictionary lookup.
    private struct State {
        var definitions: [Key: WorkflowDefinition] = [:]
        var byAlias: [String: [WorkflowDefinition]] = [:]

        mutating func reindex() {
            byAlias = Dictionary(grouping: definitions.values.filter { $0.interface.expose != nil }) { $0.interface.expose?.path ?? "" }
        }
    }

    private let state = Mutex(State())

    public init(_ workflows: [WorkflowDefinition] = []) {
        replace(with: workflows)
    }

    public func replace(with workflows: [WorkflowDefinition]) {
        var all: [Key: WorkflowDefinition] = [:]
        for w in workflows { all[Key(tenant: w.tenant, name: w.name)] = w }
        state.withLock {
            $0.definitions = all
            $0.reindex()
        }
    }

    public func upsert(_ workflow: WorkflowDefinition) {
        state.withLock {
            $0.definitions[Key(tenant: workflow.tenant, name: workflow.name)] = workflow
            $0.reindex()
        }
    }

    public func remove(name: ServiceName, tenant: TenantID?) {
        state.withLock {
            $0.definitions.removeValue(forKey: Key(tenant: tenant, name: name))
            $0.reindex()
        }
    }

    /// The workflow `name` as `tenant` sees it: its own, else the global one.
    public func definition(named name: ServiceName, for tenant: TenantID?) -> WorkflowDefinition? {
        state.withLock { s in
            if let tenant, let own = s.definitions[Key(tenant: tenant, name: name)] { return own }
            return s.definitions[Key(tenant: nil, name: name)]
        }
    }

    /// The workflow whose `expose` alias is (method, path), as `tenant` sees it.
    public func exposed(method: HttpMethod, path: String, for tenant: TenantID?) -> WorkflowDefinition? {
        state.withLock { s in
            let matches = (s.byAlias[path] ?? []).filter { $0.interface.expose?.method == method }
            return matches.first { $0.tenant != nil && $0.tenant == tenant } ?? matches.first { $0.tenant == nil }
        }
    }

    /// Whether any workflow is exposed at `path` (with any method, in any tenant).
    public func isExposed(path: String) -> Bool {
        state.withLock { $0.byAlias[path] != nil }
    }

    /// The methods `tenant`'s workflows (its own and the global ones) answer at `path`.
    public func exposedMethods(path: String, for tenant: TenantID?) -> Set<HttpMethod> {
        state.withLock { s in
            Set((s.byAlias[path] ?? []).filter { $0.tenant == nil || $0.tenant == tenant }.compactMap { $0.interface.expose?.method })
        }
    }

    /// What the registry must provide for `workflow` to run: every service it calls (as the
    /// workflow's tenant sees the registry) and, for agent steps, the agents service. Checked
    /// when a workflow is defined so a run never finds out half-way.
    public static func missingReference(
        in workflow: WorkflowDefinition, directory: ServiceDirectory, agents: AgentSettings, integrations: Set<String> = []
    ) -> ServiceRoute.InvariantViolation? {
        func known(_ service: ServiceName) -> Bool { directory.entry(named: Substring(service.value), tenant: workflow.tenant) != nil }
        for (i, step) in workflow.steps.enumerated() {
            switch step.action {
            case .call(let call) where !known(call.service):
                return .invalid(field: "steps[\(i)].call.service", reason: "no service named '\(call.service)' is registered")
            case .agent where !known(agents.service):
                return .invalid(field: "steps[\(i)].agent", reason: "the agents service '\(agents.service)' is not registered")
            case .integration(let name, _, _, _) where !integrations.contains(name):
                return .invalid(field: "steps[\(i)].integration.name", reason: "no integration named '\(name)' is in the catalogue")
            default:
                break
            }
            if let compensate = step.compensate, !known(compensate.service) {
                return .invalid(field: "steps[\(i)].compensate.service", reason: "no service named '\(compensate.service)' is registered")
            }
        }
        return nil
    }

    /// Another workflow already answering at `workflow`'s alias in the same scope.
    public func aliasConflict(for workflow: WorkflowDefinition) -> WorkflowDefinition? {
        guard let expose = workflow.interface.expose else { return nil }
        return state.withLock { s in
            (s.byAlias[expose.path] ?? []).first { $0.tenant == workflow.tenant && $0.name != workflow.name && $0.interface.expose == expose }
        }
    }
}
