/// A service as stored, with the version its optimistic-concurrency tag (`ETag`) comes from.
public struct StoredService: Sendable, Equatable {
    public let service: ServiceRoute
    /// Starts at 1, grows by one with every update.
    public let version: Int

    public init(service: ServiceRoute, version: Int) {
        self.service = service
        self.version = version
    }
}

/// Why a repository refused a change.
public enum RepositoryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A service of that name already exists in that tenant (or globally).
    case duplicate(name: String)
    case notFound(name: String)
    /// The caller's `If-Match` version is not the stored one.
    case versionConflict(current: Int)

    public var description: String {
        switch self {
        case .duplicate(let name): "a service named '\(name)' already exists"
        case .notFound(let name): "no service named '\(name)'"
        case .versionConflict(let current): "the service changed meanwhile (current version \(current))"
        }
    }
}

/// Which rows a repository call may see (PostgreSQL enforces it with row-level security).
public enum TenantScope: Sendable, Equatable {
    /// One tenant's own services (and, for reads, the global ones it can see).
    case tenant(TenantID)
    /// Global services only (tenant_id null).
    case global
    /// Everything: loading the whole registry at start and on a change.
    case platform
}

/// Where service documents are kept (SQLite or PostgreSQL). Every method is one transaction.
public protocol ServiceRepository: Sendable {
    /// Every service of every tenant (platform scope), for building the registry.
    func loadAll() async throws -> [StoredService]
    /// The service `name` owned by `tenant` (nil: the global one) — not a shadowed global one.
    func find(name: ServiceName, tenant: TenantID?) async throws -> StoredService?
    /// Stores a new service; `RepositoryError.duplicate` if its name is taken in its tenant.
    func insert(_ service: ServiceRoute) async throws -> StoredService
    /// Replaces a service; with `expectedVersion`, only if it is still that version.
    func update(_ service: ServiceRoute, expectedVersion: Int?) async throws -> StoredService
    /// Removes a service; with `expectedVersion`, only if it is still that version.
    func delete(name: ServiceName, tenant: TenantID?, expectedVersion: Int?) async throws
}

/// A domain event as stored: numbered by the store, its data a JSON object naming the service.
public struct StoredEvent: Sendable, Equatable {
    public let id: Int64
    public let type: String
    /// Seconds since 1970.
    public let occurredAt: Double
    public let tenantID: String?
    /// A JSON object (text).
    public let data: String

    public init(id: Int64, type: String, occurredAt: Double, tenantID: String?, data: String) {
        self.id = id
        self.type = type
        self.occurredAt = occurredAt
        self.tenantID = tenantID
        self.data = data
    }
}

/// An event with the time it happened, as the journal queues it.
public struct TimedEvent: Sendable {
    public let event: DomainEvent
    public let occurredAt: Double

    public init(_ event: DomainEvent, at occurredAt: Double) {
        self.event = event
        self.occurredAt = occurredAt
    }
}

/// The append-only event log's storage.
public protocol EventRepository: Sendable {
    /// Appends events in order, in one transaction; returns them numbered.
    func append(_ events: [TimedEvent]) async throws -> [StoredEvent]
    /// Events oldest first, after `since` (an id), of `type` and `tenant` when given.
    func events(type: String?, tenant: TenantID?, since: Int64?, limit: Int) async throws -> [StoredEvent]
    /// Deletes events older than `time`; returns how many.
    func prune(before time: Double) async throws -> Int
}

extension EventRepository {
    /// Appends events that happened together.
    public func append(_ events: [DomainEvent], at time: Double) async throws -> [StoredEvent] {
        try await append(events.map { TimedEvent($0, at: time) })
    }
}
