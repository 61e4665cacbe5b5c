import BrainDomain
import Logging

/// Workflow definitions' commands and queries: each change is checked against the registry
/// (every service it calls must exist, its alias must be free), stored, then published to the
/// live catalogue and recorded as an event. The HTTP layer only translates.
public final class WorkflowAdministration: Sendable {
    private let repository: any WorkflowRepository
    public let catalog: WorkflowCatalog
    private let registry: ServiceRegistry
    private let agents: AgentSettings
    private let integrations: Set<String>
    private let events: any DomainEventSink
    private let now: @Sendable () -> Double
    private let logger: Logger

    public init(
        repository: any WorkflowRepository, catalog: WorkflowCatalog, registry: ServiceRegistry, agents: AgentSettings,
        events: any DomainEventSink, now: @escaping @Sendable () -> Double, logger: Logger, integrations: Set<String> = []
    ) {
        self.integrations = integrations
        self.repository = repository
        self.catalog = catalog
        self.registry = registry
        self.agents = agents
        self.events = events
        self.now = now
        self.logger = logger
    }

    /// Why `workflow` cannot be defined now: a missing service, or an alias another workflow has.
    public func check(_ workflow: WorkflowDefinition) -> ServiceRoute.InvariantViolation? {
        if let missing = WorkflowCatalog.missingReference(in: workflow, directory: registry.directory, agents: agents, integrations: integrations) { return missing }
        if let other = catalog.aliasConflict(for: workflow) {
            return .invalid(field: "expose.path", reason: "workflow '\(other.name)' is already exposed at \(workflow.interface.expose?.path ?? "")")
        }
        return nil
    }

    public func register(_ workflow: WorkflowDocument) async throws -> StoredWorkflow {
        if let violation = check(workflow.definition) { throw violation }
        let stored = try await repository.insertWorkflow(workflow)
        catalog.upsert(stored.definition)
        events.publish([.workflowRegistered(workflow: workflow.definition.name, tenant: workflow.definition.tenant)], at: now())
        return stored
    }

    public func replace(_ workflow: WorkflowDocument, expectedVersion: Int?) async throws -> StoredWorkflow {
        if let violation = check(workflow.definition) { throw violation }
        let stored = try await repository.updateWorkflow(workflow, expectedVersion: expectedVersion)
        catalog.upsert(stored.definition)
        events.publish([.workflowUpdated(workflow: workflow.definition.name, tenant: workflow.definition.tenant)], at: now())
        return stored
    }

    public func remove(name: ServiceName, tenant: TenantID?, expectedVersion: Int?) async throws {
        try await repository.deleteWorkflow(name: name, tenant: tenant, expectedVersion: expectedVersion)
        catalog.remove(name: name, tenant: tenant)
        events.publish([.workflowRemoved(workflow: name, tenant: tenant)], at: now())
    }

    /// The stored workflows `tenant` may see (its own and the global ones); nil: all of them.
    public func list(tenant: TenantID?) async throws -> [StoredWorkflow] {
        try await repository.loadAllWorkflows().filter { tenant == nil || $0.definition.tenant == nil || $0.definition.tenant == tenant }
    }

    public func find(name: ServiceName, tenant: TenantID?) async throws -> StoredWorkflow? {
        try await repository.findWorkflow(name: name, tenant: tenant)
    }

    /// Applies the YAML file's workflows at start, as services are seeded: the YAML is
    /// authoritative for the workflows it declares; ones created through the API are kept.
    /// A definition the registry cannot satisfy fails the start (the error names the field
    /// relative to the entry: `steps[1].call.service`).
    public func seed(_ workflows: [WorkflowDocument]) async throws {
        for workflow in workflows {
            let definition = workflow.definition
            if let stored = try await repository.findWorkflow(name: definition.name, tenant: definition.tenant) {
                guard stored.document.json != workflow.json else { continue }
                _ = try await repository.updateWorkflow(workflow, expectedVersion: nil)
                events.publish([.workflowUpdated(workflow: definition.name, tenant: definition.tenant)], at: now())
                logger.notice("workflow replaced by the configuration file", metadata: ["workflow": .string(definition.name.value)])
            } else {
                do {
                    _ = try await repository.insertWorkflow(workflow)
                    events.publish([.workflowRegistered(workflow: definition.name, tenant: definition.tenant)], at: now())
                } catch RepositoryError.duplicate {
                    continue
                }
            }
        }
    }

    /// Replaces the live catalogue with the store's workflows (start, and a replica's resync).
    /// A stored workflow whose document no longer reads is logged and left out.
    public func reload() async throws {
        catalog.replace(with: try await repository.loadAllWorkflows().map(\.definition))
    }

    /// Brings one workflow in line with the store (a change announced by another replica).
    public func refresh(name: ServiceName, tenant: TenantID?) async throws {
        if let stored = try await repository.findWorkflow(name: name, tenant: tenant) {
            catalog.upsert(stored.definition)
        } else {
            catalog.remove(name: name, tenant: tenant)
        }
    }
}
