/// An immutable, lookup-optimised view of the registry: service name → service and its route
/// trie. Built once per registry change and shared by every connection without locks.
///
/// Lookup is a hash of the request's first segment plus a trie walk of the rest, so it costs
/// the same with 13 services or 10,000.
public final class ServiceDirectory: Sendable {
    /// A class so that handing an entry to a request costs one reference count, not a copy of
    /// the whole service document.
    public final class Entry: Sendable {
        public let service: ServiceRoute
        public let routes: RouteTrie
        /// Index of this service in `services`, a dense id for per-service state arrays.
        public let index: Int

        init(service: ServiceRoute, routes: RouteTrie, index: Int) {
            self.service = service
            self.routes = routes
            self.index = index
        }
    }

    /// Global services, keyed by the name's bytes so a request's first segment is looked up
    /// without building a String.
    private let global: [PathSegmentKey: Entry]
    /// Tenant-scoped services: visible to their tenant only, shadowing a global one of the name.
    private let scoped: [TenantID: [PathSegmentKey: Entry]]
    public let services: [ServiceRoute]

    public init(services: [ServiceRoute]) {
        var global: [PathSegmentKey: Entry] = [:]
        var scoped: [TenantID: [PathSegmentKey: Entry]] = [:]
        global.reserveCapacity(services.count)
        for (index, service) in services.enumerated() {
            let key = PathSegmentKey(Substring(service.name.value))
            let entry = Entry(service: service, routes: service.makeRouteTrie(), index: index)
            if let tenant = service.tenant {
                scoped[tenant, default: [:]][key] = entry
            } else {
                global[key] = entry
            }
        }
        self.global = global
        self.scoped = scoped
        self.services = services
    }

    /// The service `name` as `tenant` sees it: its own service of that name, else the global one.
    public func entry(named name: Substring, tenant: TenantID? = nil) -> Entry? {
        let key = PathSegmentKey(name)
        if let tenant, !scoped.isEmpty, let own = scoped[tenant]?[key] { return own }
        return global[key]
    }

    public enum Resolution: Sendable {
        case forward(Entry, RouteDefinition?)
        case unknownService
        case unknownRoute
    }

    /// Resolves a request to its service and, when the service lists routes, the matching route.
    /// A service without routes forwards every path.
    public func resolve(_ target: RequestTarget, method: HttpMethod, tenant: TenantID? = nil) -> Resolution {
        guard let entry = entry(named: target.service, tenant: tenant) else { return .unknownService }
        if entry.routes.isEmpty { return .forward(entry, nil) }
        switch entry.routes.match(path: target.path, method: method) {
        case .matched(let route): return .forward(entry, route)
        case .methodNotAllowed, .notFound: return .unknownRoute
        }
    }
}
