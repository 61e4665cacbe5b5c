import BrainDomain

/// Where a tenant's integration credentials are kept: Vault KV v2, or the gateway's own
/// database encrypted with its key. Keyed by (tenant, integration name).
public protocol SecretStore: Sendable {
    /// The stored credentials, or nil when none are.
    func read(tenant: TenantID, integration: String) async throws(SecretStoreError) -> Credentials?
    func write(_ credentials: Credentials, tenant: TenantID, integration: String) async throws(SecretStoreError)
    /// Erases them (nothing stored is not an error).
    func erase(tenant: TenantID, integration: String) async throws(SecretStoreError)
    /// The stored credentials as the store holds them now, past any cache (another replica
    /// may have just replaced them).
    func readFresh(tenant: TenantID, integration: String) async throws(SecretStoreError) -> Credentials?
}

extension SecretStore {
    public func readFresh(tenant: TenantID, integration: String) async throws(SecretStoreError) -> Credentials? {
        try await read(tenant: tenant, integration: integration)
    }
}

/// Why credentials could not be read or kept. Never carries a credential value.
public enum SecretStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The store cannot be reached or used now (Vault sealed or down, no key configured).
    case unavailable(reason: String)
    /// What is stored cannot be opened: tampered with, copied from another tenant or
    /// integration, or sealed under another key.
    case unreadable(reason: String)

    public var description: String {
        switch self {
        case .unavailable(let reason): "the secret store is unavailable: \(reason)"
        case .unreadable(let reason): "stored credentials cannot be read: \(reason)"
        }
    }
}
