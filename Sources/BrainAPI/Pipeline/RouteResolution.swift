import BrainDomain

/// Route-match stage: the request target checked and split (`RequestTarget`), then resolved
/// against the registry to a service, and to a route when the service lists routes.
public struct RouteResolution: Sendable {
    public struct Resolved: Sendable {
        public let entry: ServiceDirectory.Entry
        public let route: RouteDefinition?
        public let upstreamURI: String
    }

    public init() {}

    public func resolve(uri: String, method: HttpMethod, tenant: TenantID?, in directory: ServiceDirectory) -> Result<Resolved, GatewayError> {
        let target: RequestTarget
        do {
            target = try RequestTarget.parse(uri)
        } catch {
            return .failure(.badRequest(error.description))
        }
        switch directory.resolve(target, method: method, tenant: tenant) {
        case .forward(let entry, let route):
            return .success(Resolved(entry: entry, route: route, upstreamURI: target.upstreamURI(base: entry.service.basePath)))
        case .unknownService:
            return .failure(.unknownService(target.service))
        case .unknownRoute:
            return .failure(.unknownRoute)
        }
    }
}
