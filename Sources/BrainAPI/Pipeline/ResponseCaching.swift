import BrainDomain
import BrainInfrastructure
import Foundation
import NIOCore
import NIOHTTP1

/// The response cache's whole part in an exchange — lookup, revalidation, fill, store and
/// invalidation: GET and HEAD responses kept per (tenant, service, method, target, `Vary`
/// values). The rules themselves (`CacheRules`) are pure domain code; this stage reads and
/// writes the HTTP fields around them.
struct ResponseCaching: Sendable {
    let cache: ResponseCache
    /// Redis, the second level shared by replicas (`REDIS_URL`); asked only while it is up.
    let shared: SharedResponseCache?
    let sharedState: SharedState?

    init(cache: ResponseCache, shared: SharedResponseCache? = nil, sharedState: SharedState? = nil) {
        self.cache = cache
        self.shared = shared
        self.sharedState = sharedState
    }

    /// The shared level to ask after an in-process miss, when there is one and Redis is up.
    var sharedLevel: SharedResponseCache? {
        guard let shared, sharedState?.isUp ?? true else { return nil }
        return shared
    }

    /// Second-level lookup after an in-process miss: a response another replica stored is
    /// kept in-process too, and the lookup runs again.
    func fetchShared(
        _ key: ResponseCache.Key, request: some RequestFieldValues, now: Double, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Void>? {
        guard let shared = sharedLevel, shared.worthAsking(key, now: now) else { return nil }
        let cache = self.cache
        return shared.fetch(key, request: request, monotonicNow: now, wallNow: Self.wallClock(), on: eventLoop).map { stored in
            if let stored { cache.store(key, stored, request: request) }
        }
    }

    /// Shared entries carry wall-clock time: each process's monotonic clock starts elsewhere.
    static func wallClock() -> Double { Date().timeIntervalSince1970 }

    /// A storable response being copied as it streams to the client.
    struct Fill {
        let key: ResponseCache.Key
        /// The client-facing head, minus the per-request fields.
        let head: HTTPResponseHead
        let lifetime: Double
        let maxBytes: Int
        private(set) var parts: [ByteBuffer] = []
        private(set) var bytes = 0

        /// Keeps a body part; false when the body outgrew what may be stored (drop the fill).
        mutating func append(_ part: ByteBuffer) -> Bool {
            bytes += part.readableBytes
            guard bytes <= maxBytes else { return false }
            parts.append(part)
            return true
        }
    }

    /// Cache-fill stage: a fill when the upstream's response may be stored. `clientHead` (the
    /// relayed head as `HTTPHeaders`) is built only then.
    func startFill(
        key: ResponseCache.Key, upstream head: some ResponseHeadReading, policy: CachePolicy, clientHead: () -> HTTPResponseHead
    ) -> Fill? {
        guard let lifetime = lifetime(of: head, policy: policy) else {
            shared?.rememberUncacheable(key, now: DataPlaneHandler.policyNow())
            return nil
        }
        let stored = HTTPResponseHead(version: .http1_1, status: head.status, headers: Self.storableHeaders(clientHead()))
        return Fill(key: key, head: stored, lifetime: lifetime, maxBytes: policy.maxBodyBytes)
    }

    /// Cache-store stage: the complete response goes into the cache in one contiguous buffer.
    func store(_ fill: Fill, request: some HeaderFieldReading, now: Double, allocator: ByteBufferAllocator) {
        var body = allocator.buffer(capacity: fill.bytes)
        for var part in fill.parts { body.writeBuffer(&part) }
        let varyNames = Self.varyNames(fill.head)
        let stored = ResponseCache.StoredResponse(
            status: fill.head.status, headers: fill.head.headers, body: body, storedAt: now, lifetime: fill.lifetime,
            varyNames: varyNames, varyValues: varyNames.map { ResponseCache.StoredResponse.joined(request, $0) })
        cache.store(fill.key, stored, request: request)
        if let shared = sharedLevel { shared.store(fill.key, stored, monotonicNow: now, wallNow: Self.wallClock()) }
    }

    /// Revalidation: the upstream's 304 confirmed `stored`, which is fresh again.
    func confirmed(_ stored: ResponseCache.StoredResponse, key: ResponseCache.Key, request: some HeaderFieldReading, now: Double) {
        cache.refresh(key, request: request, now: now, lifetime: stored.lifetime)
    }

    /// Invalidation: an unsafe method changes the resource, so what was stored for it is stale.
    func invalidate(after method: HTTPMethod, target: String, service: ServiceName, tenant: TenantID?) {
        guard method != .GET, method != .HEAD, method != .OPTIONS else { return }
        let keys: [ResponseCache.Key] = [
            .init(tenant: tenant, service: service, method: "GET", target: target), .init(tenant: tenant, service: service, method: "HEAD", target: target),
        ]
        if cache.count > 0 { for key in keys { cache.invalidate(key) } }
        // Other replicas may hold it even when this one does not. (While Redis is down, their
        // copies expire by their own lifetimes.)
        sharedLevel?.invalidate(keys)
    }

    enum Lookup {
        /// Not a cacheable request (method, policy, `no-store`): straight upstream, nothing stored.
        case bypass
        /// Go upstream and store what comes back if it may be stored.
        case miss(ResponseCache.Key)
        /// A fresh stored response: answer with it.
        case hit(ResponseCache.Key, ResponseCache.StoredResponse)
        /// A stored response that needs the upstream's confirmation first (stale with
        /// validators, `no-cache`): go upstream with its validators.
        case revalidate(ResponseCache.Key, ResponseCache.StoredResponse)
    }

    func lookup(_ head: some RequestHeadReading, service: ServiceRoute, tenant: TenantID?, now: Double) -> Lookup {
        guard cache.isEnabled, service.cache.enabled, head.method == .GET || head.method == .HEAD else { return .bypass }
        let mode = CacheRules.requestMode(
            CacheDirectives(values: head.headers["cache-control"]),
            pragmaNoCache: head.headers.first(name: "pragma")?.lowercased().contains("no-cache") ?? false)
        if mode == .bypass { return .bypass }
        let key = ResponseCache.Key(tenant: tenant, service: service.name, method: head.method.rawValue, target: head.uri)
        guard let stored = cache.lookup(key, request: head.headers) else { return .miss(key) }
        if mode == .lookup && stored.isFresh(now: now) { return .hit(key, stored) }
        if stored.etag != nil || stored.lastModified != nil { return .revalidate(key, stored) }
        return .miss(key)
    }

    /// The conditional fields that revalidate `stored` upstream, or nil when the client sent
    /// its own conditionals (they go upstream as they are, and the 304 is the client's, not
    /// the cache's).
    static func validators(of stored: ResponseCache.StoredResponse, request headers: some HeaderFieldReading) -> [(String, String)]? {
        guard !headers.contains(name: "if-none-match"), !headers.contains(name: "if-modified-since") else { return nil }
        var fields: [(String, String)] = []
        if let etag = stored.etag { fields.append(("If-None-Match", etag)) }
        if let lastModified = stored.lastModified { fields.append(("If-Modified-Since", lastModified)) }
        return fields
    }

    /// Seconds the upstream's response may be served from the cache, or nil when it may not be stored.
    func lifetime(of head: some ResponseHeadReading, policy: CachePolicy) -> Double? {
        CacheRules.freshnessLifetime(
            status: Int(head.status.code), directives: CacheDirectives(values: head.headers["cache-control"]),
            varyAll: head.headers["vary"].contains { $0.contains("*") }, setsCookie: head.headers.contains(name: "set-cookie"),
            policy: policy)
    }

    /// The header names the response varies on, lowercased.
    static func varyNames(_ head: HTTPResponseHead) -> [String] {
        head.headers["vary"].flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: " \t").lowercased() }.filter { !$0.isEmpty }
    }

    /// The client-facing head of a stored response: stored fields plus this request's own.
    static func hitHead(
        _ stored: ResponseCache.StoredResponse, version: HTTPVersion, requestID: String, keepAlive: Bool, now: Double,
        isHead: Bool, extra: [(String, String)]
    ) -> HTTPResponseHead {
        var headers = stored.headers
        // The stored body is complete: its length is known even when the upstream streamed it.
        if !isHead { headers.replaceOrAdd(name: "Content-Length", value: String(stored.body.readableBytes)) }
        headers.replaceOrAdd(name: "Age", value: String(Int(max(0, now - stored.storedAt))))
        headers.add(name: "X-Cache", value: "HIT")
        headers.add(name: "X-Request-ID", value: requestID)
        for (name, value) in extra { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        return HTTPResponseHead(version: version, status: stored.status, headers: headers)
    }

    /// The headers worth storing from a client-facing head: all but the per-request ones.
    static func storableHeaders(_ clientHead: HTTPResponseHead) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for (name, value) in clientHead.headers {
            let lower = name.lowercased()
            if lower == "x-request-id" || lower == "connection" || lower == "x-cache" || lower.hasPrefix("ratelimit-") || lower == "age" {
                continue
            }
            headers.add(name: name, value: value)
        }
        return headers
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
