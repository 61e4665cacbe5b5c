/// Fixes the tenant a request acts for. The tenant comes from the verified token; a request's
/// `X-Tenant-ID` may name another tenant only when the caller is a platform admin: a header
/// any client can set must never choose whose data it reaches.
public enum TenantContext {
    public enum Decision: Equatable, Sendable {
        case actFor(TenantID)
        /// The header names another tenant and the caller may not switch.
        case forbidden
        /// The header is not a UUID.
        case invalidHeader
    }

    public static func resolve(principal: Principal, requestedTenant header: String?) -> Decision {
        guard let header else { return .actFor(principal.tenant) }
        guard let requested = try? TenantID(header) else { return .invalidHeader }
        if requested == principal.tenant { return .actFor(requested) }
        return principal.isPlatformAdmin ? .actFor(requested) : .forbidden
    }
}
