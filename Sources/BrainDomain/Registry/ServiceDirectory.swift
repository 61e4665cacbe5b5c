/// An immutable, lookup-optimised view of the registry: service name → service and its route
/// trie. Built once per registry change and shared by every connection without locks.
///
/// Lookup is a hash of the request's first segment plus a trie walk of the rest, so it costs
/// the same with 13 services or 10,000.
public final class ServiceDirectory: Sendable {
    public struct Entry: Sendable {
        public let service: ServiceRoute
        public let routes: RouteTrie
        /// Index of this service in `services`, a dense id for per-service state arrays.
        public let index: Int
    }

    /// Keyed by `Substring` so a request's first segment is looked up without building a String.
    private let entries: [Substring: Entry]
    public let services: [ServiceRoute]

    public init(services: [ServiceRoute]) {
        var entries: [Substring: Entry] = [:]
        entries.reserveCapacity(services.count)
        for (index, service) in services.enumerated() {
            entries[Substring(service.name.value)] = Entry(service: service, routes: service.makeRouteTrie(), index: index)
        }
        self.entries = entries
        self.services = services
    }

    public func entry(named name: Substring) -> Entry? { entries[name] }

    public enum Resolution: Sendable {
        case forward(Entry, RouteDefinition?)
        case unknownService
        case unknownRoute
    }

    /// Resolves a request to its service and, when the service lists routes, the matching route.
    /// A service without routes forwards every path (design.md "Routing").
    public func resolve(_ target: RequestTarget, method: HttpMethod) -> Resolution {
        guard let entry = entries[target.service] else { return .unknownService }
        if entry.routes.isEmpty { return .forward(entry, nil) }
        switch entry.routes.match(path: target.path, method: method) {
        case .matched(let route): return .forward(entry, route)
        case .methodNotAllowed, .notFound: return .unknownRoute
        }
    }
}
