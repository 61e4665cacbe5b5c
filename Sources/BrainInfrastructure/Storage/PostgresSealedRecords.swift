import BrainDomain
import Logging
import PostgresNIO

/// Sealed integration credentials in PostgreSQL (migration 4). Every statement runs bound to
/// the tenant, so row-level security keeps one tenant's rows from another.
public struct PostgresSealedRecords: SealedRecordStore {
    private let store: PostgresRegistryStore
    private let logger: Logger

    public init(_ store: PostgresRegistryStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    public func envelope(tenant: TenantID, integration: String) async throws -> String? {
        let logger = self.logger
        return try await store.inScope(.tenant(tenant)) { connection -> String? in
            let rows = try await connection.query(
                "SELECT envelope FROM integration_secrets WHERE tenant_id = \(tenant.value)::uuid AND integration = \(integration)", logger: logger)
            for try await envelope in rows.decode(String.self) { return envelope }
            return nil
        }
    }

    public func store(_ envelope: String, tenant: TenantID, integration: String) async throws {
        let logger = self.logger
        _ = try await store.inScope(.tenant(tenant)) { connection in
            try await connection.query(
                """
                INSERT INTO integration_secrets (tenant_id, integration, envelope) VALUES (\(tenant.value)::uuid, \(integration), \(envelope))
                ON CONFLICT (tenant_id, integration) DO UPDATE SET envelope = excluded.envelope, updated_at = now()
                """, logger: logger)
        }
    }

    public func delete(tenant: TenantID, integration: String) async throws {
        let logger = self.logger
        _ = try await store.inScope(.tenant(tenant)) { connection in
            try await connection.query(
                "DELETE FROM integration_secrets WHERE tenant_id = \(tenant.value)::uuid AND integration = \(integration)", logger: logger)
        }
    }
}
