import BrainDomain

/// Permission stage: the route's roles (or the service's default roles) against the caller's.
public struct Permission: Sendable {
    public init() {}

    public func check(_ principal: Principal, service: ServiceRoute, route: RouteDefinition?) -> GatewayError? {
        PermissionPolicy.allows(principal, service: service, route: route)
            ? nil : .forbidden("the caller lacks a role this route requires")
    }
}
