import BrainApplication
import BrainDomain

/// Where the embedded secret store keeps its sealed envelopes: a row per (tenant, integration)
/// in the registry's database. It sees ciphertext only.
public protocol SealedRecordStore: Sendable {
    func envelope(tenant: TenantID, integration: String) async throws -> String?
    func store(_ envelope: String, tenant: TenantID, integration: String) async throws
    func delete(tenant: TenantID, integration: String) async throws
}

/// The secret store without Vault: credentials sealed with the gateway's key
/// (`BRAIN_GATEWAY_SECRETS_KEY`) and kept in the registry's database. A database dump, a
/// row copied to another tenant or a row edited by hand yields nothing.
public struct EncryptedSecretStore: SecretStore {
    private let sealer: SecretSealer
    private let records: any SealedRecordStore

    public init(sealer: SecretSealer, records: any SealedRecordStore) {
        self.sealer = sealer
        self.records = records
    }

    public func read(tenant: TenantID, integration: String) async throws(SecretStoreError) -> Credentials? {
        let envelope: String?
        do { envelope = try await records.envelope(tenant: tenant, integration: integration) } catch {
            throw .unavailable(reason: "the database could not be read")
        }
        guard let envelope else { return nil }
        return try sealer.open(envelope, tenant: tenant, integration: integration)
    }

    public func write(_ credentials: Credentials, tenant: TenantID, integration: String) async throws(SecretStoreError) {
        let envelope = try sealer.seal(credentials, tenant: tenant, integration: integration)
        do { try await records.store(envelope, tenant: tenant, integration: integration) } catch {
            throw .unavailable(reason: "the database could not be written")
        }
    }

    public func erase(tenant: TenantID, integration: String) async throws(SecretStoreError) {
        do { try await records.delete(tenant: tenant, integration: integration) } catch {
            throw .unavailable(reason: "the database could not be written")
        }
    }
}
