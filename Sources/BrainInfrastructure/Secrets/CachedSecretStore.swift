import BrainApplication
import BrainDomain
import Synchronization

/// A read-through cache in front of a secret store: reads within `cacheSeconds` of the last
/// fetch are answered from memory (a proxied call does not wait for Vault), and when the store
/// is unavailable a cached value keeps serving for `staleSeconds` more (stale-if-error), so a
/// Vault restart does not stop the traffic. Writes and erasures go through and update the cache.
public final class CachedSecretStore: SecretStore {
    private struct Key: Hashable {
        let tenant: TenantID
        let integration: String
    }

    private struct Entry {
        let value: Credentials?
        let fetchedAt: Double
    }

    private let store: any SecretStore
    private let cacheSeconds: Double
    private let staleSeconds: Double
    private let now: @Sendable () -> Double
    private let entries = Mutex<[Key: Entry]>([:])
    /// When the store last failed while a stale value was served; nil once it answers again.
    private let degradedSince = Mutex<Double?>(nil)

    public init(_ store: any SecretStore, cacheSeconds: Double, staleSeconds: Double, now: @escaping @Sendable () -> Double) {
        self.store = store
        self.cacheSeconds = cacheSeconds
        self.staleSeconds = staleSeconds
        self.now = now
    }

    /// Whether the last read had to fall back on a cached value.
    public var isServingStale: Bool { degradedSince.withLock { $0 != nil } }

    public func read(tenant: TenantID, integration: String) async throws(SecretStoreError) -> Credentials? {
        let key = Key(tenant: tenant, integration: integration)
        let now = now()
        let cached = entries.withLock { $0[key] }
        if let cached, now - cached.fetchedAt < cacheSeconds { return cached.value }
        do {
            let value = try await store.read(tenant: tenant, integration: integration)
            remember(value, key, at: now)
            degradedSince.withLock { $0 = nil }
            return value
        } catch {
            guard case .unavailable = error, let cached, now - cached.fetchedAt < cacheSeconds + staleSeconds else { throw error }
            degradedSince.withLock { $0 = $0 ?? now }
            return cached.value
        }
    }

    public func write(_ credentials: Credentials, tenant: TenantID, integration: String) async throws(SecretStoreError) {
        try await store.write(credentials, tenant: tenant, integration: integration)
        remember(credentials, Key(tenant: tenant, integration: integration), at: now())
    }

    public func erase(tenant: TenantID, integration: String) async throws(SecretStoreError) {
        try await store.erase(tenant: tenant, integration: integration)
        remember(nil, Key(tenant: tenant, integration: integration), at: now())
    }

    private func remember(_ value: Credentials?, _ key: Key, at time: Double) {
        entries.withLock { entries in
            // Bounded: a sweep of expired entries when it grows large.
            if entries.count > 50_000 {
                let horizon = time - cacheSeconds - staleSeconds
                entries = entries.filter { $0.value.fetchedAt > horizon }
            }
            entries[key] = Entry(value: value, fetchedAt: time)
        }
    }
}
