import BrainDomain
import Foundation
import SQLiteNIO

/// Sealed integration credentials in the embedded store's file (migration 4).
public struct SQLiteSealedRecords: SealedRecordStore {
    private let connection: SQLiteConnection

    public init(_ store: SQLiteRegistryStore) {
        self.connection = store.connection
    }

    public func envelope(tenant: TenantID, integration: String) async throws -> String? {
        let rows = try await connection.query(
            "SELECT envelope FROM integration_secrets WHERE tenant_key = ? AND integration = ?", [.text(tenant.value), .text(integration)])
        return rows.first?.column("envelope")?.string
    }

    public func store(_ envelope: String, tenant: TenantID, integration: String) async throws {
        _ = try await connection.query(
            """
            INSERT INTO integration_secrets (tenant_key, integration, envelope, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (tenant_key, integration) DO UPDATE SET envelope = excluded.envelope, updated_at = excluded.updated_at
            """,
            [.text(tenant.value), .text(integration), .text(envelope), .float(Date().timeIntervalSince1970)])
    }

    public func delete(tenant: TenantID, integration: String) async throws {
        _ = try await connection.query(
            "DELETE FROM integration_secrets WHERE tenant_key = ? AND integration = ?", [.text(tenant.value), .text(integration)])
    }
}
