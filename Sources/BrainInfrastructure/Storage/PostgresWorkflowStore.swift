import BrainDomain
import Logging
import PostgresNIO

/// Workflow definitions in PostgreSQL (row-level security as for services); each change is
/// announced on the registry's channel as `workflow:<tenant or empty>/<name>` so every replica
/// refreshes it.
public final class PostgresWorkflowStore: WorkflowRepository {
    private let store: PostgresRegistryStore
    private let reader: @Sendable (String) throws -> WorkflowDefinition
    private let logger: Logger

    public static let notificationPrefix = "workflow:"

    public init(_ store: PostgresRegistryStore, reader: @escaping @Sendable (String) throws -> WorkflowDefinition, logger: Logger) {
        self.store = store
        self.reader = reader
        self.logger = logger
    }

    private func notify(_ connection: PostgresConnection, name: ServiceName, tenant: TenantID?) async throws {
        let payload = Self.notificationPrefix + (tenant?.value ?? "") + "/" + name.value
        try await connection.query("SELECT pg_notify(\(PostgresRegistryStore.changeChannel), \(payload))", logger: logger)
    }

    public func loadAllWorkflows() async throws -> [StoredWorkflow] {
        let logger = self.logger, reader = self.reader
        return try await store.inScope(.platform) { connection in
            var out: [StoredWorkflow] = []
            for try await (json, version) in try await connection.query("SELECT document, version FROM workflows ORDER BY id", logger: logger).decode((String, Int).self) {
                out.append(StoredWorkflow(document: WorkflowDocument(definition: try reader(json), json: json), version: version))
            }
            return out
        }
    }

    public func findWorkflow(name: ServiceName, tenant: TenantID?) async throws -> StoredWorkflow? {
        try await store.inScope(PostgresRegistryStore.scope(of: tenant)) { connection in try await find(name: name, tenant: tenant, on: connection) }
    }

    private func find(name: ServiceName, tenant: TenantID?, on connection: PostgresConnection) async throws -> StoredWorkflow? {
        let rows = try await connection.query(
            "SELECT document, version FROM workflows WHERE name = \(name.value) AND tenant_id IS NOT DISTINCT FROM \(tenant?.value)::uuid",
            logger: logger)
        for try await (json, version) in rows.decode((String, Int).self) {
            return StoredWorkflow(document: WorkflowDocument(definition: try reader(json), json: json), version: version)
        }
        return nil
    }

    public func insertWorkflow(_ workflow: WorkflowDocument) async throws -> StoredWorkflow {
        let definition = workflow.definition
        do {
            return try await store.inScope(PostgresRegistryStore.scope(of: definition.tenant)) { connection in
                try await connection.query(
                    """
                    INSERT INTO workflows (tenant_id, name, document, version)
                    VALUES (\(definition.tenant?.value)::uuid, \(definition.name.value), \(workflow.json), 1)
                    """, logger: logger)
                try await notify(connection, name: definition.name, tenant: definition.tenant)
                return StoredWorkflow(document: workflow, version: 1)
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw RepositoryError.duplicate(name: definition.name.value)
        }
    }

    public func updateWorkflow(_ workflow: WorkflowDocument, expectedVersion: Int?) async throws -> StoredWorkflow {
        let definition = workflow.definition
        return try await store.inScope(PostgresRegistryStore.scope(of: definition.tenant)) { connection in
            let rows = try await connection.query(
                """
                UPDATE workflows SET document = \(workflow.json), version = version + 1, updated_at = now()
                WHERE name = \(definition.name.value) AND tenant_id IS NOT DISTINCT FROM \(definition.tenant?.value)::uuid
                  AND (\(expectedVersion)::integer IS NULL OR version = \(expectedVersion)::integer)
                RETURNING version
                """, logger: logger)
            for try await version in rows.decode(Int.self) {
                try await notify(connection, name: definition.name, tenant: definition.tenant)
                return StoredWorkflow(document: workflow, version: version)
            }
            guard let current = try await find(name: definition.name, tenant: definition.tenant, on: connection) else {
                throw RepositoryError.notFound(name: definition.name.value)
            }
            throw RepositoryError.versionConflict(current: current.version)
        }
    }

    public func deleteWorkflow(name: ServiceName, tenant: TenantID?, expectedVersion: Int?) async throws {
        try await store.inScope(PostgresRegistryStore.scope(of: tenant)) { connection in
            let rows = try await connection.query(
                """
                DELETE FROM workflows
                WHERE name = \(name.value) AND tenant_id IS NOT DISTINCT FROM \(tenant?.value)::uuid
                  AND (\(expectedVersion)::integer IS NULL OR version = \(expectedVersion)::integer)
                RETURNING id
                """, logger: logger)
            for try await _ in rows.decode(Int64.self) {
                try await notify(connection, name: name, tenant: tenant)
                return
            }
            guard let current = try await find(name: name, tenant: tenant, on: connection) else { throw RepositoryError.notFound(name: name.value) }
            throw RepositoryError.versionConflict(current: current.version)
        }
    }
}
