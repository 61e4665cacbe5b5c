import BrainDomain
import NIOHTTP1

/// Tenant stage: the request acts for the token's tenant; `X-Tenant-ID` may name another only
/// for a platform admin (403 otherwise, 400 when it is not a UUID).
public struct TenantResolution: Sendable {
    public init() {}

    public func resolve(_ principal: Principal, headers: HTTPHeaders) -> Result<TenantID, GatewayError> {
        switch TenantContext.resolve(principal: principal, requestedTenant: headers.first(name: "x-tenant-id")) {
        case .actFor(let tenant): .success(tenant)
        case .forbidden: .failure(.forbidden("X-Tenant-ID names another tenant; only platform-admin may act for other tenants"))
        case .invalidHeader: .failure(.badRequest("X-Tenant-ID is not a UUID"))
        }
    }
}
