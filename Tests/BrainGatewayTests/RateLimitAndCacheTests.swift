import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@Suite struct RateLimitEndToEndTests {
    static let tenantBToken = TestTokens.make(sub: "user-b", tenant: TestTokens.tenantB)

    @Test func limitsArePerTenantAndServiceWithOverrides() async throws {
        try await withGateway(services: { b in
            """
            services:
              - {name: svc, url: \(b.url), rate_limit: {requests: 3, window_seconds: 3600}}
              - {name: other, url: \(b.url), rate_limit: {requests: 5, window_seconds: 3600}}
            tenants:
              - id: \(TestTokens.tenantB)
                rate_limit: {requests: 2, window_seconds: 3600}
                services:
                  other: {rate_limit: {requests: 1, window_seconds: 3600}}
            """
        }) { gateway, backend in
            func statuses(_ path: String, _ n: Int, token: String = TestTokens.user) async throws -> [RawResponse] {
                var out: [RawResponse] = []
                for _ in 0..<n { out.append(try await CircuitBreakerEndToEndTests.get(gateway, path, token: token)) }
                return out
            }
            // Tenant A on svc: exactly 3, then 429 — with the RateLimit fields on every answer.
            let a = try await statuses("/svc/x", 4)
            #expect(a.map(\.status) == [200, 200, 200, 429])
            #expect(a.map { $0.header("RateLimit-Limit") } == ["3", "3", "3", "3"])
            #expect(a.map { $0.header("RateLimit-Remaining") } == ["2", "1", "0", "0"])
            #expect(a.allSatisfy { Int($0.header("RateLimit-Reset") ?? "") ?? 0 >= 1 })
            let refused = a[3]
            #expect(Int(refused.header("Retry-After") ?? "") ?? 0 >= 1)
            #expect(CircuitBreakerEndToEndTests.json(refused)["error"] as? String == "rate_limited")
            #expect(backend.requests.count == 3)
            #expect(gateway.gateway.counters.rateLimitedRequests == 1)
            // Another service has its own counter.
            #expect(try await statuses("/other/x", 6).map(\.status) == [200, 200, 200, 200, 200, 429])
            // Tenant B: its override (2) on svc, and its per-service override (1) on other.
            #expect(try await statuses("/svc/x", 3, token: Self.tenantBToken).map(\.status) == [200, 200, 429])
            #expect(try await statuses("/other/x", 2, token: Self.tenantBToken).map(\.status) == [200, 429])
            // Tenant A is still refused on svc: B's traffic did not touch A's counter.
            #expect(try await statuses("/svc/x", 1).map(\.status) == [429])
        }
    }

    @Test func theWindowSlides() async throws {
        try await withGateway(services: { b in "services:\n  - {name: svc, url: \(b.url), rate_limit: {requests: 2, window_seconds: 1}}\n" }) { gateway, _ in
            // Burst until refused (within a second at most four fit: never 2 × limit).
            var seen: [Int] = []
            while seen.last != 429 && seen.count < 50 { seen.append(try await CircuitBreakerEndToEndTests.get(gateway, "/svc/x").status) }
            #expect(seen.last == 429)
            #expect(seen.filter { $0 == 200 }.count >= 2)
            // Two windows later nothing of the burst counts any more.
            try await Task.sleep(for: .milliseconds(2100))
            #expect(try await CircuitBreakerEndToEndTests.get(gateway, "/svc/x").status == 200)
        }
    }
}

@Suite struct InProcessRateLimitStoreTests {
    let policy = RateLimitPolicy(requests: 10, windowSeconds: 60)

    @Test func idleKeysAreEvictedSoMemoryStaysBounded() throws {
        let store = InProcessRateLimitStore(shardCount: 16, sweepSeconds: 10)
        let service = try ServiceName("svc")
        for i in 0..<200_000 {
            let tenant = try TenantID(String(format: "%08x-0000-4000-8000-000000000000", i))
            _ = store.attempt(RateLimitKey(tenant: tenant, service: service), policy: policy, now: 1000)
        }
        #expect(store.keyCount == 200_000)
        // Two windows later every one of those keys is idle: traffic sweeps the shards it
        // reaches, the periodic sweep the rest.
        let active = try TenantID("aaaaaaaa-0000-4000-8000-000000000000")
        _ = store.attempt(RateLimitKey(tenant: active, service: service), policy: policy, now: 1100)
        _ = store.attempt(RateLimitKey(tenant: active, service: service), policy: policy, now: 1121)
        #expect(store.keyCount < 200_000)
        store.sweepIdle(now: 1121)
        #expect(store.keyCount == 1)
        // The key that stayed active kept its count.
        #expect(store.attempt(RateLimitKey(tenant: active, service: service), policy: policy, now: 1121).remaining == 7)
    }

    @Test func concurrentLoopsCountExactly() async throws {
        let store = InProcessRateLimitStore()
        let key = RateLimitKey(tenant: try TenantID(TestTokens.tenantA), service: try ServiceName("svc"))
        let limit = RateLimitPolicy(requests: 5000, windowSeconds: 3600)
        let allowed = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<1000).filter { _ in store.attempt(key, policy: limit, now: 7200.5).allowed }.count }
            }
            return await group.reduce(0, +)
        }
        #expect(allowed == 5000)
    }
}

@Suite struct ResponseCacheTests {
    static func get(_ gateway: GatewayHarness, _ path: String, headers: String = "", token: String = TestTokens.user) async throws -> RawResponse {
        try await gateway.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\(headers)Connection: close\r\n\r\n", token: token)
    }

    static func n(_ r: RawResponse) -> Int? { CircuitBreakerEndToEndTests.json(r)["n"] as? Int }

    static func services(_ b: TestBackend) -> String {
        """
        services:
          - {name: svc, url: \(b.url), rate_limit: {requests: 100000, window_seconds: 60}}
          - {name: ttl, url: \(b.url), rate_limit: {requests: 100000, window_seconds: 60}, cache: {ttl_seconds: 60}}
          - {name: small, url: \(b.url), rate_limit: {requests: 100000, window_seconds: 60}, cache: {max_body_bytes: 10}}
          - {name: off, url: \(b.url), rate_limit: {requests: 100000, window_seconds: 60}, cache: {enabled: false}}
        """
    }

    @Test func sharedCacheRulesAndTenantIsolation() async throws {
        try await withGateway(services: { Self.services($0) }) { gateway, backend in
            let path = "/svc/cacheable?cc=max-age%3D60"
            let first = try await Self.get(gateway, path)
            #expect(first.status == 200 && first.header("X-Cache") == "MISS")
            let second = try await Self.get(gateway, path)
            #expect(second.header("X-Cache") == "HIT")
            #expect(Self.n(second) == Self.n(first))
            #expect(second.header("Age") != nil)
            #expect(second.header("X-Request-ID") != first.header("X-Request-ID"))
            #expect(second.header("RateLimit-Limit") == "100000")
            #expect(second.header("Content-Length") == String(second.body.count))
            #expect(gateway.gateway.counters.cachedResponses == 1)
            // Another tenant never sees tenant A's entry.
            let other = try await Self.get(gateway, path, token: RateLimitEndToEndTests.tenantBToken)
            #expect(other.header("X-Cache") == "MISS")
            #expect(Self.n(other) != Self.n(first))
            // A HEAD is its own entry; a GET with no-store bypasses the cache.
            let bypass = try await Self.get(gateway, path, headers: "Cache-Control: no-store\r\n")
            #expect(bypass.header("X-Cache") == nil)
            #expect(Self.n(bypass) != Self.n(first))

            // Responses a shared cache must not keep.
            for cc in ["no-store", "private%2C%20max-age%3D60", ""] {
                let p = "/svc/cacheable?cc=\(cc)"
                let r1 = try await Self.get(gateway, p)
                let r2 = try await Self.get(gateway, p)
                #expect(r2.header("X-Cache") == "MISS", "cc=\(cc)")
                #expect(Self.n(r1) != Self.n(r2), "cc=\(cc)")
            }
            // …unless the service's policy gives a TTL; a too-large body or a disabled cache is never kept.
            let t1 = try await Self.get(gateway, "/ttl/cacheable")
            let t2 = try await Self.get(gateway, "/ttl/cacheable")
            #expect(t2.header("X-Cache") == "HIT" && Self.n(t1) == Self.n(t2))
            let s1 = try await Self.get(gateway, "/small/cacheable?cc=max-age%3D60")
            let s2 = try await Self.get(gateway, "/small/cacheable?cc=max-age%3D60")
            #expect(s2.header("X-Cache") == "MISS" && Self.n(s1) != Self.n(s2))
            let o2 = try await Self.get(gateway, "/off/cacheable?cc=max-age%3D60")
            #expect(o2.header("X-Cache") == nil)
            _ = backend
        }
    }

    @Test func varyHeadersSelectTheVariant() async throws {
        try await withGateway(services: { Self.services($0) }) { gateway, _ in
            let path = "/svc/cacheable?cc=max-age%3D60&vary=X-Lang"
            let en = try await Self.get(gateway, path, headers: "X-Lang: en\r\n")
            let de = try await Self.get(gateway, path, headers: "X-Lang: de\r\n")
            #expect(en.header("X-Cache") == "MISS" && de.header("X-Cache") == "MISS")
            let enAgain = try await Self.get(gateway, path, headers: "X-Lang: en\r\n")
            #expect(enAgain.header("X-Cache") == "HIT")
            #expect(CircuitBreakerEndToEndTests.json(enAgain)["vary"] as? String == "en")
            #expect(Self.n(enAgain) == Self.n(en))
            let none = try await Self.get(gateway, path)
            #expect(none.header("X-Cache") == "MISS")
        }
    }

    @Test func noCacheRevalidatesWithTheUpstream() async throws {
        try await withGateway(services: { Self.services($0) }) { gateway, backend in
            let path = "/svc/cacheable?cc=max-age%3D60&etag=v1"
            let first = try await Self.get(gateway, path)
            let before = backend.requests.count
            // The client asks for revalidation: the upstream is asked (If-None-Match), says 304,
            // and the stored response is served.
            let revalidated = try await Self.get(gateway, path, headers: "Cache-Control: no-cache\r\n")
            #expect(backend.requests.count == before + 1)
            #expect(backend.requests.last?.headers.first(name: "If-None-Match") == "\"v1\"")
            #expect(revalidated.status == 200 && revalidated.header("X-Cache") == "HIT")
            #expect(Self.n(revalidated) == Self.n(first))
            #expect(revalidated.body == first.body)
            // A response marked no-cache is stored but confirmed upstream every time.
            let mustCheck = "/svc/cacheable?cc=no-cache&etag=v2"
            let m1 = try await Self.get(gateway, mustCheck)
            let count = backend.requests.count
            let m2 = try await Self.get(gateway, mustCheck)
            #expect(backend.requests.count == count + 1)
            #expect(m2.header("X-Cache") == "HIT" && Self.n(m2) == Self.n(m1))
            // A client's own conditional request gets the upstream's own 304.
            let own = try await Self.get(gateway, path, headers: "Cache-Control: no-cache\r\nIf-None-Match: \"v1\"\r\n")
            #expect(own.status == 304)
        }
    }

    @Test func unsafeMethodsInvalidate() async throws {
        try await withGateway(services: { Self.services($0) }) { gateway, _ in
            let path = "/svc/cacheable?cc=max-age%3D60"
            let first = try await Self.get(gateway, path)
            #expect(try await Self.get(gateway, path).header("X-Cache") == "HIT")
            _ = try await gateway.send("POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            let after = try await Self.get(gateway, path)
            #expect(after.header("X-Cache") == "MISS")
            #expect(Self.n(after) != Self.n(first))
        }
    }

    @Test func theStoreIsBoundedByBytesAndEvictsTheLeastRecentlyUsed() throws {
        let cache = ResponseCache(capacityBytes: 64 * 1024)
        func key(_ i: Int) -> ResponseCache.Key { .init(tenant: nil, service: try! ServiceName("svc"), method: "GET", target: "/\(i)") }
        func response(_ i: Int) -> ResponseCache.StoredResponse {
            .init(status: .ok, headers: ["Content-Type": "text/plain"], body: ByteBuffer(repeating: UInt8(i & 0xFF), count: 4000),
                  storedAt: 0, lifetime: 60, varyNames: [], varyValues: [])
        }
        for i in 0..<10 { cache.store(key(i), response(i), request: HTTPHeaders()) }
        #expect(cache.count == 10)
        // Touch 0 so it is the most recently used, then overflow.
        #expect(cache.lookup(key(0), request: HTTPHeaders()) != nil)
        for i in 10..<40 { cache.store(key(i), response(i), request: HTTPHeaders()) }
        #expect(cache.bytesUsed <= 64 * 1024)
        #expect(cache.lookup(key(1), request: HTTPHeaders()) == nil)
        #expect(cache.lookup(key(39), request: HTTPHeaders())?.body.readableBytes == 4000)
        // Too large for the cache (more than an eighth of it): not stored at all.
        let big = ResponseCache.StoredResponse(status: .ok, headers: [:], body: ByteBuffer(repeating: 1, count: 9000), storedAt: 0, lifetime: 60, varyNames: [], varyValues: [])
        cache.store(key(99), big, request: HTTPHeaders())
        #expect(cache.lookup(key(99), request: HTTPHeaders()) == nil)
    }
}
