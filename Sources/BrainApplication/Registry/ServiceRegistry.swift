import Atomics
import BrainDomain

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

    /// Publishes a new set of services.
    public func replace(with services: [ServiceRoute]) {
        current.store(Published(ServiceDirectory(services: services)), ordering: .releasing)
    }
}
