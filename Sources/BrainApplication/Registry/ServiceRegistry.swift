import Atomics
import BrainDomain
import Synchronization

/// The live service registry.
///
/// Readers (every proxied request) load the current `ServiceDirectory` with one atomic load and
/// no lock; writers build a new directory and publish it, so a request always sees one
/// consistent registry and in-flight requests keep the one they started with.
public final class ServiceRegistry: Sendable {
    private final class Published: AtomicReference, Sendable {
        let directory: ServiceDirectory
        init(_ directory: ServiceDirectory) { self.directory = directory }
    }

    private let current: ManagedAtomic<Published>

    public init(services: [ServiceRoute]) {
        self.current = ManagedAtomic(Published(ServiceDirectory(services: services)))
    }

    /// The registry as of now.
    public var directory: ServiceDirectory {
        current.load(ordering: .acquiring).directory
    }

    /// Serialises writers (readers never wait): each change is read-modify-publish.
    private let writer = Mutex(())

    /// Publishes a new set of services.
    public func replace(with services: [ServiceRoute]) {
        update { $0 = services }
    }

    /// Read-modify-publish under the writer lock: every change goes through here.
    private func update<T>(_ change: (inout [ServiceRoute]) throws -> T) rethrows -> T {
        try writer.withLock { _ in
            var services = current.load(ordering: .acquiring).directory.services
            let result = try change(&services)
            current.store(Published(ServiceDirectory(services: services)), ordering: .releasing)
            return result
        }
    }

    /// Adds a service or replaces the one with its (tenant, name); in-flight requests keep the
    /// snapshot they started with.
    public func upsert(_ service: ServiceRoute) {
        update { services in
            if let index = services.firstIndex(where: { $0.name == service.name && $0.tenant == service.tenant }) {
                services[index] = service
            } else {
                services.append(service)
            }
        }
    }

    /// Removes the service (tenant, name) if present.
    public func remove(name: ServiceName, tenant: TenantID?) {
        update { services in services.removeAll { $0.name == name && $0.tenant == tenant } }
    }

    public struct UnknownService: Error, CustomStringConvertible {
        public let name: String
        public var description: String { "no service named '\(name)' is registered" }
    }

    /// Changes one instance's load-balancing weight at runtime (the optimiser's lever). Requests
    /// already routed keep their instance; new picks use the new weight at once.
    public func setWeight(_ weight: Int, of instance: UpstreamInstance, service name: ServiceName, tenant: TenantID? = nil) throws {
        try update { services in
            guard let index = services.firstIndex(where: { $0.name == name && $0.tenant == tenant }) else {
                throw UnknownService(name: name.value)
            }
            try services[index].setWeight(weight, for: instance)
        }
    }
}
