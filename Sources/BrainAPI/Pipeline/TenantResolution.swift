import BrainInfrastructure
import BrainDomain
import NIOHTTP1

/// Tenant stage: the request acts for the token's tenant; `X-Tenant-ID` may name another only
/// for a platform admin (403 otherwise, 400 when it is not a UUID).
public struct TenantResolution: Sendable {
    public init() {}

    public func resolve(_ principal: Principal, headers: some HeaderFieldReading) -> Result<TenantID, GatewayError> {
        let requested = headers[canonicalForm: "x-tenant-id"]
        // Several values that disagree are refused: no component should pick a different one.
        if requested.count > 1, Set(requested.map { $0.lowercased() }).count > 1 {
            return .failure(.badRequest("X-Tenant-ID is given more than once with different values"))
        }
        return switch TenantContext.resolve(principal: principal, requestedTenant: requested.first.map(String.init)) {
        case .actFor(let tenant): .success(tenant)
        case .forbidden: .failure(.forbidden("X-Tenant-ID names another tenant; only platform-admin may act for other tenants"))
        case .invalidHeader: .failure(.badRequest("X-Tenant-ID is not a UUID"))
        }
    }
}
