import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation
import Synchronization
import Testing

/// The secret cache's rules, over an in-memory store of our own port that counts its reads and
/// can be switched off (the Vault behaviour itself is tested against OpenBao).
@Suite struct CachedSecretStoreTests {
    final class MemoryStore: SecretStore {
        let values = Mutex<[String: Credentials]>([:])
        let reads = Mutex(0)
        let down = Mutex(false)
        let delayMilliseconds: Int

        init(delayMilliseconds: Int = 0) { self.delayMilliseconds = delayMilliseconds }

        func read(tenant: TenantID, integration: String) async throws(SecretStoreError) -> Credentials? {
            reads.withLock { $0 += 1 }
            if delayMilliseconds > 0 { try? await Task.sleep(for: .milliseconds(delayMilliseconds)) }
            if down.withLock({ $0 }) { throw .unavailable(reason: "down") }
            return values.withLock { $0[integration] }
        }

        func write(_ credentials: Credentials, tenant: TenantID, integration: String) async throws(SecretStoreError) {
            if down.withLock({ $0 }) { throw .unavailable(reason: "down") }
            values.withLock { $0[integration] = credentials }
        }

        func erase(tenant: TenantID, integration: String) async throws(SecretStoreError) {
            values.withLock { $0[integration] = nil }
        }
    }

    final class Clock: Sendable {
        let time = Mutex(1000.0)
        func advance(_ seconds: Double) { time.withLock { $0 += seconds } }
        var now: @Sendable () -> Double { { self.time.withLock { $0 } } }
    }

    let tenant = try! TenantID(TestTokens.tenantA)

    @Test func concurrentMissesMakeOneRead() async throws {
        let store = MemoryStore(delayMilliseconds: 100)
        store.values.withLock { $0["acme"] = Credentials(["api_key": "k"]) }
        let cache = CachedSecretStore(store, cacheSeconds: 60, staleSeconds: 600, now: Clock().now)
        let tenant = self.tenant
        let values = try await withThrowingTaskGroup(of: Credentials?.self) { group in
            for _ in 0..<20 { group.addTask { try await cache.read(tenant: tenant, integration: "acme") } }
            return try await group.reduce(into: [Credentials?]()) { $0.append($1) }
        }
        #expect(values.count == 20 && values.allSatisfy { $0?["api_key"] == "k" })
        #expect(store.reads.withLock { $0 } == 1)
    }

    @Test func anOutageServesStaleWithBackOffThenFails() async throws {
        let store = MemoryStore()
        let clock = Clock()
        let cache = CachedSecretStore(store, cacheSeconds: 10, staleSeconds: 30, failureBackoffSeconds: 2, now: clock.now)
        try await cache.write(Credentials(["api_key": "k"]), tenant: tenant, integration: "acme")
        store.down.withLock { $0 = true }
        clock.advance(11)
        // Past the cache time: the store is asked, fails, the stale value serves.
        #expect(try await cache.read(tenant: tenant, integration: "acme")?["api_key"] == "k")
        #expect(store.reads.withLock { $0 } == 1 && cache.isServingStale)
        // Within the back-off, not asked again.
        for _ in 0..<5 { _ = try await cache.read(tenant: tenant, integration: "acme") }
        #expect(store.reads.withLock { $0 } == 1)
        clock.advance(3)
        _ = try await cache.read(tenant: tenant, integration: "acme")
        #expect(store.reads.withLock { $0 } == 2)
        // Past cache + stale: the failure is the answer.
        clock.advance(30)
        await #expect(throws: SecretStoreError.unavailable(reason: "down")) { try await cache.read(tenant: self.tenant, integration: "acme") }
        // Back up: fresh again.
        store.down.withLock { $0 = false }
        #expect(try await cache.read(tenant: tenant, integration: "acme")?["api_key"] == "k")
        #expect(!cache.isServingStale)
    }

    @Test func aWriteDuringASlowReadIsNotOverwrittenByTheOldValue() async throws {
        let store = MemoryStore(delayMilliseconds: 200)
        store.values.withLock { $0["acme"] = Credentials(["api_key": "old"]) }
        let clock = Clock()
        let cache = CachedSecretStore(store, cacheSeconds: 60, staleSeconds: 0, now: clock.now)
        let tenant = self.tenant
        let reading = Task { try await cache.read(tenant: tenant, integration: "acme") }
        try await Task.sleep(for: .milliseconds(50))
        clock.advance(1)
        try await cache.write(Credentials(["api_key": "new"]), tenant: tenant, integration: "acme")
        _ = try await reading.value
        #expect(try await cache.read(tenant: tenant, integration: "acme")?["api_key"] == "new")
    }
}
