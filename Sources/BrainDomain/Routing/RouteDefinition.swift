/// One (pattern, methods, roles) entry of a service's route list.
///
/// An empty `methods` set means every method. `roles` is carried for the permission stage
/// (a caller needs one of them); empty means no role requirement.
public struct RouteDefinition: Hashable, Sendable {
    public var pattern: RoutePattern
    public var methods: Set<HttpMethod>
    public var roles: [String]

    public init(pattern: RoutePattern, methods: Set<HttpMethod> = [], roles: [String] = []) {
        self.pattern = pattern
        self.methods = methods
        self.roles = roles
    }

    public func allows(_ method: HttpMethod) -> Bool {
        methods.isEmpty || methods.contains(method)
    }
}
