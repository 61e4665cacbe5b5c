import BrainDomain
import Synchronization

/// The workflows a gateway can run, by (tenant, name): a tenant's own workflow shadows a global
/// one of the same name, as services do. Also answers which workflow an `expose` alias names.
public final class WorkflowCatalog: Sendable {
    private struct Key: Hashable {
        let tenant: TenantID?
        let name: ServiceName
    }

    private let definitions = Mutex<[Key: WorkflowDefinition]>([:])

    public init(_ workflows: [WorkflowDefinition] = []) {
        replace(with: workflows)
    }

    public func replace(with workflows: [WorkflowDefinition]) {
        var all: [Key: WorkflowDefinition] = [:]
        for w in workflows { all[Key(tenant: w.tenant, name: w.name)] = w }
        definitions.withLock { $0 = all }
    }

    public func upsert(_ workflow: WorkflowDefinition) {
        definitions.withLock { $0[Key(tenant: workflow.tenant, name: workflow.name)] = workflow }
    }

    public func remove(name: ServiceName, tenant: TenantID?) {
        _ = definitions.withLock { $0.removeValue(forKey: Key(tenant: tenant, name: name)) }
    }

    /// The workflow `name` as `tenant` sees it: its own, else the global one.
    public func definition(named name: ServiceName, for tenant: TenantID?) -> WorkflowDefinition? {
        definitions.withLock { all in
            if let tenant, let own = all[Key(tenant: tenant, name: name)] { return own }
            return all[Key(tenant: nil, name: name)]
        }
    }

    /// The workflow exactly as stored under (tenant, name) — not a shadowed global one.
    public func stored(named name: ServiceName, tenant: TenantID?) -> WorkflowDefinition? {
        definitions.withLock { $0[Key(tenant: tenant, name: name)] }
    }

    /// The workflow whose `expose` alias is (method, path), as `tenant` sees it.
    public func exposed(method: HttpMethod, path: String, for tenant: TenantID?) -> WorkflowDefinition? {
        definitions.withLock { all in
            let matches = all.values.filter { $0.interface.expose?.method == method && $0.interface.expose?.path == path }
            return matches.first { $0.tenant != nil && $0.tenant == tenant } ?? matches.first { $0.tenant == nil }
        }
    }

    /// Whether any workflow is exposed at `path` (with any method).
    public func isExposed(path: String) -> Bool {
        definitions.withLock { $0.values.contains { $0.interface.expose?.path == path } }
    }

    /// Every workflow `tenant` may see (nil: every workflow of every tenant), by name.
    public func all(visibleTo tenant: TenantID?, everything: Bool) -> [WorkflowDefinition] {
        definitions.withLock { all in
            all.values.filter { everything || $0.tenant == nil || $0.tenant == tenant }
        }.sorted { ($0.name, $0.tenant?.value ?? "") < ($1.name, $1.tenant?.value ?? "") }
    }

    /// What the registry must provide for `workflow` to run: every service it calls (as the
    /// workflow's tenant sees the registry) and, for agent steps, the agents service. Checked
    /// when a workflow is defined so a run never finds out half-way.
    public static func missingReference(
        in workflow: WorkflowDefinition, directory: ServiceDirectory, agents: AgentSettings
    ) -> ServiceRoute.InvariantViolation? {
        func known(_ service: ServiceName) -> Bool { directory.entry(named: Substring(service.value), tenant: workflow.tenant) != nil }
        for (i, step) in workflow.steps.enumerated() {
            switch step.action {
            case .call(let call) where !known(call.service):
                return .invalid(field: "steps[\(i)].call.service", reason: "no service named '\(call.service)' is registered")
            case .agent where !known(agents.service):
                return .invalid(field: "steps[\(i)].agent", reason: "the agents service '\(agents.service)' is not registered")
            case .integration(let name, _, _, _):
                return .invalid(field: "steps[\(i)].integration.name", reason: "no integration named '\(name)' is configured")
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
        return definitions.withLock { all in
            all.values.first { $0.tenant == workflow.tenant && $0.name != workflow.name && $0.interface.expose == expose }
        }
    }
}
