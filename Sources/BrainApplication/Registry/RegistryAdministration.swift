import BrainDomain
import Logging

/// The registry's commands and queries (register, replace, remove, add a route, list): each change goes to the store first, then to
/// the live registry, and is recorded as domain events. The HTTP layer only translates.
public final class RegistryAdministration: Sendable {
    private let repository: any ServiceRepository
    private let registry: ServiceRegistry
    private let events: any DomainEventSink
    private let now: @Sendable () -> Double
    private let logger: Logger

    public init(repository: any ServiceRepository, registry: ServiceRegistry, events: any DomainEventSink, now: @escaping @Sendable () -> Double, logger: Logger) {
        self.repository = repository
        self.registry = registry
        self.events = events
        self.now = now
        self.logger = logger
    }

    // MARK: Commands

    /// RegisterService: 409 (`RepositoryError.duplicate`) if the name is taken in its tenant.
    public func register(_ service: ServiceRoute) async throws -> StoredService {
        var service = service
        let stored = try await repository.insert(service)
        registry.upsert(stored.service)
        events.publish(service.drainEvents(), at: now())
        return stored
    }

    /// UpdateService: replaces the whole document (PUT), optionally only if unchanged since `expectedVersion`.
    public func replace(_ service: ServiceRoute, expectedVersion: Int?) async throws -> StoredService {
        let stored = try await repository.update(service, expectedVersion: expectedVersion)
        registry.upsert(stored.service)
        events.publish([.serviceUpdated(service: service.name, tenant: service.tenant)], at: now())
        return stored
    }

    public func remove(name: ServiceName, tenant: TenantID?, expectedVersion: Int?) async throws {
        try await repository.delete(name: name, tenant: tenant, expectedVersion: expectedVersion)
        registry.remove(name: name, tenant: tenant)
        events.publish([.serviceRemoved(service: name, tenant: tenant)], at: now())
    }

    /// UpdateRoute: adds a route to a service (invariants: no overlapping (pattern, method)).
    public func addRoute(_ route: RouteDefinition, to name: ServiceName, tenant: TenantID?, expectedVersion: Int?) async throws -> StoredService {
        guard let current = try await repository.find(name: name, tenant: tenant) else { throw RepositoryError.notFound(name: name.value) }
        if let expectedVersion, expectedVersion != current.version { throw RepositoryError.versionConflict(current: current.version) }
        var service = current.service
        _ = service.drainEvents()
        try service.register(route)
        let stored = try await repository.update(service, expectedVersion: current.version)
        registry.upsert(stored.service)
        events.publish(service.drainEvents(), at: now())
        return stored
    }

    /// Applies the YAML file's services at start. The YAML is authoritative for the services it
    /// declares: absent ones are added, stored ones that differ are replaced; services created
    /// through the API and absent from the YAML are kept.
    public func seed(_ services: [ServiceRoute]) async throws {
        for var service in services {
            if let stored = try await repository.find(name: service.name, tenant: service.tenant) {
                guard stored.service.withoutEvents != service.withoutEvents else { continue }
                _ = try await repository.update(service, expectedVersion: nil)
                events.publish([.serviceUpdated(service: service.name, tenant: service.tenant)], at: now())
                logger.notice("service replaced by the configuration file", metadata: ["service": .string(service.name.value)])
            } else {
                do {
                    _ = try await repository.insert(service)
                    events.publish(service.drainEvents(), at: now())
                } catch RepositoryError.duplicate {
                    // Another replica seeded it at the same moment.
                    continue
                }
            }
        }
    }

    /// Replaces the live registry with everything in the store (start, and a replica's resync).
    public func reload() async throws {
        let stored = try await repository.loadAll()
        registry.replace(with: stored.map(\.service))
    }

    /// Brings one service of the live registry in line with the store (a change announced by
    /// another replica).
    public func refresh(name: ServiceName, tenant: TenantID?) async throws {
        if let stored = try await repository.find(name: name, tenant: tenant) {
            registry.upsert(stored.service)
        } else {
            registry.remove(name: name, tenant: tenant)
        }
    }

    // MARK: Queries

    /// ListServices: what the live registry serves (a tenant sees its own and the global ones).
    public func list(tenant: TenantID?) -> [ServiceRoute] {
        let all = registry.directory.services
        guard let tenant else { return all }
        return all.filter { $0.tenant == nil || $0.tenant == tenant }
    }

    /// GetService, with its version for the `ETag`.
    public func find(name: ServiceName, tenant: TenantID?) async throws -> StoredService? {
        try await repository.find(name: name, tenant: tenant)
    }
}

extension ServiceRoute {
    /// The document without pending events, for comparing two versions of a service.
    var withoutEvents: ServiceRoute {
        var copy = self
        _ = copy.drainEvents()
        return copy
    }
}
