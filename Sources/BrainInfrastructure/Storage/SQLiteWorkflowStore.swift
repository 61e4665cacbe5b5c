import BrainDomain
import Foundation
import SQLiteNIO

/// Workflow definitions in the embedded store's file, versioned like services.
public final class SQLiteWorkflowStore: WorkflowRepository {
    private let connection: SQLiteConnection
    private let reader: @Sendable (String) throws -> WorkflowDefinition

    public init(_ store: SQLiteRegistryStore, reader: @escaping @Sendable (String) throws -> WorkflowDefinition) {
        self.connection = store.connection
        self.reader = reader
    }

    private func stored(_ row: SQLiteRow) throws -> StoredWorkflow {
        guard let json = row.column("document")?.string, let version = row.column("version")?.integer else {
            throw RepositoryError.notFound(name: "?")
        }
        return StoredWorkflow(document: WorkflowDocument(definition: try reader(json), json: json), version: version)
    }

    public func loadAllWorkflows() async throws -> [StoredWorkflow] {
        try await connection.query("SELECT document, version FROM workflows ORDER BY id").map(stored)
    }

    public func findWorkflow(name: ServiceName, tenant: TenantID?) async throws -> StoredWorkflow? {
        try await connection.query(
            "SELECT document, version FROM workflows WHERE tenant_key = ? AND name = ?", [.text(tenant?.value ?? ""), .text(name.value)]
        ).first.map(stored)
    }

    public func insertWorkflow(_ workflow: WorkflowDocument) async throws -> StoredWorkflow {
        let definition = workflow.definition
        do {
            _ = try await connection.query(
                "INSERT INTO workflows (tenant_key, name, document, version, updated_at) VALUES (?, ?, ?, 1, ?)",
                [.text(definition.tenant?.value ?? ""), .text(definition.name.value), .text(workflow.json), .float(Date().timeIntervalSince1970)])
        } catch let error as SQLiteError where error.reason == .constraint || error.message.contains("UNIQUE") {
            throw RepositoryError.duplicate(name: definition.name.value)
        }
        return StoredWorkflow(document: workflow, version: 1)
    }

    public func updateWorkflow(_ workflow: WorkflowDocument, expectedVersion: Int?) async throws -> StoredWorkflow {
        let definition = workflow.definition
        let rows = try await connection.query(
            """
            UPDATE workflows SET document = ?, version = version + 1, updated_at = ?
            WHERE tenant_key = ? AND name = ? AND (? IS NULL OR version = ?) RETURNING version
            """,
            [.text(workflow.json), .float(Date().timeIntervalSince1970), .text(definition.tenant?.value ?? ""), .text(definition.name.value),
             expectedVersion.map { .integer($0) } ?? .null, expectedVersion.map { .integer($0) } ?? .null])
        if let version = rows.first?.column("version")?.integer { return StoredWorkflow(document: workflow, version: version) }
        throw try await whyNot(name: definition.name, tenant: definition.tenant)
    }

    public func deleteWorkflow(name: ServiceName, tenant: TenantID?, expectedVersion: Int?) async throws {
        let rows = try await connection.query(
            "DELETE FROM workflows WHERE tenant_key = ? AND name = ? AND (? IS NULL OR version = ?) RETURNING id",
            [.text(tenant?.value ?? ""), .text(name.value), expectedVersion.map { .integer($0) } ?? .null, expectedVersion.map { .integer($0) } ?? .null])
        if rows.isEmpty { throw try await whyNot(name: name, tenant: tenant) }
    }

    private func whyNot(name: ServiceName, tenant: TenantID?) async throws -> RepositoryError {
        guard let current = try await findWorkflow(name: name, tenant: tenant) else { return .notFound(name: name.value) }
        return .versionConflict(current: current.version)
    }
}
