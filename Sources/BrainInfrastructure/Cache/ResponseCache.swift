import Atomics
import BrainDomain
import NIOCore
import NIOHTTP1
import Synchronization

/// The response cache: complete upstream responses kept in memory,
/// bounded by bytes with least-recently-used eviction, shared by every event loop.
///
/// Entries are found by (tenant, service, method, target) — a tenant never sees another's — and
/// then by the request's values of the header names the response's `Vary` listed. The stored
/// body is one contiguous buffer handed to every hit by reference (no copy per hit).
public final class ResponseCache: Sendable {
    public struct Key: Hashable, Sendable {
        public let tenant: TenantID?
        public let service: ServiceName
        public let method: String
        /// The request target as the client sent it (path and query).
        public let target: String

        public init(tenant: TenantID?, service: ServiceName, method: String, target: String) {
            self.tenant = tenant
            self.service = service
            self.method = method
            self.target = target
        }
    }

    public struct StoredResponse: Sendable {
        public let status: HTTPResponseStatus
        /// End-to-end headers as relayed to the client (no `X-Request-ID`, no hop-by-hop).
        public var headers: HTTPHeaders
        public let body: ByteBuffer
        public var storedAt: Double
        /// Seconds it is fresh for, from `storedAt`; 0 = revalidate on every use.
        public var lifetime: Double
        public let varyNames: [String]
        public let varyValues: [String?]
        public var etag: String? { headers.first(name: "etag") }
        public var lastModified: String? { headers.first(name: "last-modified") }

        public init(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, storedAt: Double, lifetime: Double, varyNames: [String], varyValues: [String?]) {
            self.status = status
            self.headers = headers
            self.body = body
            self.storedAt = storedAt
            self.lifetime = lifetime
            self.varyNames = varyNames
            self.varyValues = varyValues
        }

        public func isFresh(now: Double) -> Bool { now - storedAt < lifetime }

        /// Whether this variant was stored for a request with these header values.
        func matches(_ request: some RequestFieldValues) -> Bool {
            for (i, name) in varyNames.enumerated() where Self.joined(request, name) != varyValues[i] { return false }
            return true
        }

        public static func joined(_ headers: some RequestFieldValues, _ name: String) -> String? {
            let values = headers[name]
            return values.isEmpty ? nil : values.joined(separator: ",")
        }

        var cost: Int { body.readableBytes + headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 } + 256 }
    }

    /// One stored variant, a node of the recency list.
    private final class Node {
        let key: Key
        var response: StoredResponse
        var newer: Node?
        weak var older: Node?

        init(key: Key, response: StoredResponse) {
            self.key = key
            self.response = response
        }
    }

    private struct Store {
        var variants: [Key: [Node]] = [:]
        /// Most recently used end of the list, and least recently used end.
        var newest: Node?
        var oldest: Node?
        var bytes = 0
    }

    public let capacityBytes: Int
    private let store = Mutex(Store())
    /// Lets a lookup skip the lock entirely while nothing is cached (the common case for
    /// services that never send cacheable responses).
    private let entryCount = ManagedAtomic<Int>(0)

    public init(capacityBytes: Int) {
        self.capacityBytes = capacityBytes
    }

    public var isEnabled: Bool { capacityBytes > 0 }
    public var count: Int { entryCount.load(ordering: .relaxed) }
    public var bytesUsed: Int { store.withLock { $0.bytes } }

    /// The stored variant for this request, fresh or not (the caller decides to serve or revalidate).
    public func lookup(_ key: Key, request: some RequestFieldValues) -> StoredResponse? {
        guard entryCount.load(ordering: .relaxed) > 0 else { return nil }
        return store.withLock { store in
            guard let node = store.variants[key]?.first(where: { $0.response.matches(request) }) else { return nil }
            Self.touch(node, in: &store)
            return node.response
        }
    }

    /// Stores a complete response, replacing the variant it matches; evicts the least recently
    /// used entries to stay within `capacityBytes`. A response larger than an eighth of the
    /// capacity is not stored (it would flush everything else).
    public func store(_ key: Key, _ response: StoredResponse, request: some RequestFieldValues) {
        let cost = response.cost
        guard isEnabled, cost <= capacityBytes / 8 else { return }
        let added: Int = store.withLock { store in
            var change = 0
            var list = store.variants[key] ?? []
            if let i = list.firstIndex(where: { $0.response.varyNames == response.varyNames && $0.response.matches(request) }) {
                Self.unlink(list[i], in: &store)
                store.bytes -= list[i].response.cost
                list.remove(at: i)
                change -= 1
            }
            let node = Node(key: key, response: response)
            list.append(node)
            store.variants[key] = list
            Self.linkNewest(node, in: &store)
            store.bytes += cost
            change += 1
            while store.bytes > capacityBytes, let victim = store.oldest {
                change -= Self.remove(victim, in: &store)
            }
            return change
        }
        entryCount.wrappingIncrement(by: added, ordering: .relaxed)
    }

    /// A revalidation (304) confirmed the stored variant: it is fresh again from `now`.
    public func refresh(_ key: Key, request: some RequestFieldValues, now: Double, lifetime: Double) {
        store.withLock { store in
            guard let node = store.variants[key]?.first(where: { $0.response.matches(request) }) else { return }
            node.response.storedAt = now
            node.response.lifetime = lifetime
            Self.touch(node, in: &store)
        }
    }

    /// Drops every variant of `key` (an unsafe method went through for that target).
    public func invalidate(_ key: Key) {
        guard entryCount.load(ordering: .relaxed) > 0 else { return }
        let removed: Int = store.withLock { store in
            var n = 0
            for node in store.variants[key] ?? [] { n += Self.remove(node, in: &store) }
            return n
        }
        if removed > 0 { entryCount.wrappingDecrement(by: removed, ordering: .relaxed) }
    }

    // MARK: Recency list

    private static func touch(_ node: Node, in store: inout Store) {
        guard store.newest !== node else { return }
        unlink(node, in: &store)
        linkNewest(node, in: &store)
    }

    private static func linkNewest(_ node: Node, in store: inout Store) {
        node.older = store.newest
        node.newer = nil
        store.newest?.newer = node
        store.newest = node
        if store.oldest == nil { store.oldest = node }
    }

    private static func unlink(_ node: Node, in store: inout Store) {
        if store.newest === node { store.newest = node.older }
        if store.oldest === node { store.oldest = node.newer }
        node.older?.newer = node.newer
        node.newer?.older = node.older
        node.newer = nil
        node.older = nil
    }

    /// Unlinks and forgets one variant; returns 1.
    private static func remove(_ node: Node, in store: inout Store) -> Int {
        unlink(node, in: &store)
        store.bytes -= node.response.cost
        if var list = store.variants[node.key] {
            list.removeAll { $0 === node }
            store.variants[node.key] = list.isEmpty ? nil : list
        }
        return 1
    }
}
