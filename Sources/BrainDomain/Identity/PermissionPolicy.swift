/// Who may call what: a route's `roles` when it lists any, otherwise the service's default
/// `roles`; an empty list means any authenticated caller. Platform admins pass every check.
public enum PermissionPolicy {
    public static func allows(_ principal: Principal, service: ServiceRoute, route: RouteDefinition?) -> Bool {
        if principal.isPlatformAdmin { return true }
        let required = (route?.roles.isEmpty == false ? route?.roles : nil) ?? service.defaultRoles
        return principal.hasAny(of: required)
    }
}
