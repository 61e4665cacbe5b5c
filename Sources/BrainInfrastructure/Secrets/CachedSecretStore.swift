import BrainApplication
import BrainDomain
import Synchronization

/// A read-through cache in front of a secret store: reads within `cacheSeconds` of the last
/// fetch are answered from memory (a proxied call does not wait for Vault), and when the store
/// is unavailable a cached value keeps serving for `staleSeconds` more (stale-if-error), so a
/// Vault restart does not stop the traffic. Writes and erasures go through and update the cache.
///
/// Concurrent misses of one key make one read (the others wait for it), and for
/// `failureBackoffSeconds` after the store failed, a key with a usable stale value is served
/// from memory without asking again — an outage costs the store one request per key and
/// back-off period, not one per call, and calls do not each wait out a connect timeout.
public final class CachedSecretStore: SecretStore {
    private struct Key: Hashable {
        let tenant: TenantID
        let integration: String
    }

    private struct Entry {
        let value: Credentials?
        let fetchedAt: Double
    }

    private typealias Outcome = Result<Credentials?, SecretStoreError>

    private struct State {
        var entries: [Key: Entry] = [:]
        /// Reads in flight: the callers waiting for each.
        var inFlight: [Key: [CheckedContinuation<Outcome?, Never>]] = [:]
        /// When the store last failed; nil once it answers again.
        var failedAt: Double?
    }

    private let store: any SecretStore
    private let cacheSeconds: Double
    private let staleSeconds: Double
    private let failureBackoffSeconds: Double
    private let now: @Sendable () -> Double
    private let state = Mutex(State())

    public init(
        _ store: any SecretStore, cacheSeconds: Double, staleSeconds: Double, failureBackoffSeconds: Double = 2,
        now: @escaping @Sendable () -> Double
    ) {
        self.store = store
        self.cacheSeconds = cacheSeconds
        self.staleSeconds = staleSeconds
        self.failureBackoffSeconds = failureBackoffSeconds
        self.now = now
    }

    /// Whether the store's last read failed (cached values may be serving stale).
    public var isServingStale: Bool { state.withLock { $0.failedAt != nil } }

    public func readFresh(tenant: TenantID, integration: String) async throws(SecretStoreError) -> Credentials? {
        _ = state.withLock { $0.entries.removeValue(forKey: Key(tenant: tenant, integration: integration)) }
        return try await read(tenant: tenant, integration: integration)
    }

    public func read(tenant: TenantID, integration: String) async throws(SecretStoreError) -> Credentials? {
        let key = Key(tenant: tenant, integration: integration)
        let now = now()
        enum Plan { case answer(Credentials?), lead, join }
        let plan: Plan = state.withLock { state in
            if let cached = state.entries[key] {
                let age = now - cached.fetchedAt
                if age < cacheSeconds { return .answer(cached.value) }
                if let failedAt = state.failedAt, now - failedAt < failureBackoffSeconds, age < cacheSeconds + staleSeconds {
                    return .answer(cached.value)
                }
            }
            if state.inFlight[key] != nil { return .join }
            state.inFlight[key] = []
            return .lead
        }
        switch plan {
        case .answer(let value):
            return value
        case .join:
            let outcome: Outcome? = await withCheckedContinuation { continuation in
                let joined = state.withLock { state -> Bool in
                    guard state.inFlight[key] != nil else { return false }
                    state.inFlight[key]?.append(continuation)
                    return true
                }
                // The read finished in between: look again.
                if !joined { continuation.resume(returning: nil) }
            }
            guard let outcome else { return try await read(tenant: tenant, integration: integration) }
            return try outcome.get()
        case .lead:
            let outcome = await fetch(key, now: now)
            let waiters = state.withLock { $0.inFlight.removeValue(forKey: key) ?? [] }
            for waiter in waiters { waiter.resume(returning: outcome) }
            return try outcome.get()
        }
    }

    /// One read of the store, with the stale fallback applied.
    private func fetch(_ key: Key, now: Double) async -> Outcome {
        do {
            let value = try await store.read(tenant: key.tenant, integration: key.integration)
            state.withLock { state in
                // A write that landed while this read was under way is newer: it stays.
                if (state.entries[key]?.fetchedAt ?? -.infinity) <= now { remember(value, key, at: now, in: &state) }
                state.failedAt = nil
            }
            return .success(value)
        } catch {
            return state.withLock { state -> Outcome in
                guard case .unavailable = error else { return .failure(error) }
                state.failedAt = state.failedAt ?? now
                if let cached = state.entries[key], now - cached.fetchedAt < cacheSeconds + staleSeconds { return .success(cached.value) }
                return .failure(error)
            }
        }
    }

    public func write(_ credentials: Credentials, tenant: TenantID, integration: String) async throws(SecretStoreError) {
        try await store.write(credentials, tenant: tenant, integration: integration)
        let now = now()
        state.withLock { remember(credentials, Key(tenant: tenant, integration: integration), at: now, in: &$0) }
    }

    public func erase(tenant: TenantID, integration: String) async throws(SecretStoreError) {
        try await store.erase(tenant: tenant, integration: integration)
        let now = now()
        state.withLock { remember(nil, Key(tenant: tenant, integration: integration), at: now, in: &$0) }
    }

    private func remember(_ value: Credentials?, _ key: Key, at time: Double, in state: inout State) {
        // Bounded: a sweep of expired entries when it grows large.
        if state.entries.count > 50_000 {
            let horizon = time - cacheSeconds - staleSeconds
            state.entries = state.entries.filter { $0.value.fetchedAt > horizon }
        }
        state.entries[key] = Entry(value: value, fetchedAt: time)
    }
}
