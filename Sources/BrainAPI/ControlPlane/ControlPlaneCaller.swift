import BrainDomain
import BrainInfrastructure
import Foundation
import Hummingbird

/// Who calls a control-plane endpoint: the verified bearer token, or design.md's 401. Shared by
/// the admin API and GraphQL so both read and refuse tokens identically.
enum ControlPlaneCaller {
    /// `allowQueryToken`: where a browser cannot set headers (event stream, `/ws/events`)
    /// `?access_token=` is accepted too; the access log never records query strings.
    static func principal(_ request: Request, verifier: TokenVerifier, allowQueryToken: Bool = false) throws -> Principal {
        var token: Substring?
        if let header = request.headers[.authorization] {
            guard header.count > 7, header.prefix(7).lowercased() == "bearer " else { throw AdminError.invalidToken("Authorization must be 'Bearer <token>'") }
            token = Substring(header.dropFirst(7))
        } else if allowQueryToken, let query = request.uri.queryParameters["access_token"] {
            token = Substring(String(query))
        }
        guard let token else { throw AdminError.unauthenticated("a bearer token is required") }
        do {
            return try verifier.verify(token, now: Date().timeIntervalSince1970)
        } catch {
            throw AdminError.invalidToken(error.description)
        }
    }
}
