import BrainDomain
import BrainInfrastructure
import Foundation
import Hummingbird

/// Who calls a control-plane endpoint: the data plane's `Authentication` stage decides (the same
/// bearer parsing, JWT checks and introspection), and its refusals become `AdminError`s. Shared
/// by the admin API and GraphQL so both read and refuse tokens identically.
enum ControlPlaneCaller {
    /// `allowQueryToken`: where a browser cannot set headers (event stream, `/ws/events`)
    /// `?access_token=` is accepted too; the access log never records query strings.
    static func principal(_ request: Request, authentication: Authentication, allowQueryToken: Bool = false) async throws -> Principal {
        var authorization = request.headers[.authorization]
        if authorization == nil, allowQueryToken, let query = request.uri.queryParameters["access_token"] {
            authorization = "Bearer " + String(query)
        }
        switch await authentication.authenticate(authorization: authorization, now: Date().timeIntervalSince1970) {
        case .authenticated(let principal):
            return principal
        case .rejected(let error, let challenge):
            var fields: HTTPFields = [:]
            if let challenge { fields[.wwwAuthenticate] = challenge }
            throw AdminError(status: .init(code: Int(error.status.code)), code: error.code, detail: error.detail, headers: fields)
        case .publicPath, .needsIntrospection:
            throw AdminError(
                status: .serviceUnavailable, code: GatewayError.authUnavailable.code, detail: GatewayError.authUnavailable.detail)
        }
    }
}
