import BrainDomain
import BrainInfrastructure
import NIOHTTP1

/// Authentication stage: the caller is who a valid `Authorization: Bearer <JWT>` says, or the
/// request is refused with 401 and a `WWW-Authenticate` challenge (RFC 6750). Paths listed as
/// public (`auth.public_paths`, matched whole or as a prefix ending at a `/`) pass without one.
public struct Authentication: Sendable {
    public enum Outcome: Sendable {
        case authenticated(Principal)
        case publicPath
        case rejected(GatewayError, challenge: String)
    }

    private let verifier: TokenVerifier
    private let publicPaths: [String]

    public init(verifier: TokenVerifier, publicPaths: [String]) {
        self.verifier = verifier
        self.publicPaths = publicPaths.map { $0.count > 1 && $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }

    /// The last token a connection presented, once verified. Clients send the same token on
    /// every request of a keep-alive connection, so checking that it is byte-identical (and
    /// still unexpired, under the same key set) replaces the signature check and JSON decoding.
    public struct RememberedToken: Sendable {
        let token: String
        let principal: Principal
        let keyGeneration: Int
    }

    public func authenticate(_ head: HTTPRequestHead, now: Double) -> Outcome {
        var remembered: RememberedToken?
        return authenticate(head, now: now, remembered: &remembered)
    }

    public func authenticate(_ head: HTTPRequestHead, now: Double, remembered: inout RememberedToken?) -> Outcome {
        let authorization = head.headers.first(name: "authorization")
        if authorization == nil, isPublic(head.uri) { return .publicPath }
        guard let authorization else {
            return .rejected(.unauthenticated, challenge: #"Bearer realm="brain-gateway""#)
        }
        guard authorization.utf8.count > 7, authorization.prefix(7).lowercased() == "bearer " else {
            return .rejected(.unauthenticated, challenge: #"Bearer realm="brain-gateway", error="invalid_request""#)
        }
        if let last = remembered, last.token == authorization, last.keyGeneration == verifier.keyGeneration,
           verifier.stillValid(last.principal, now: now) {
            return .authenticated(last.principal)
        }
        let token = authorization.dropFirst(7).drop(while: { $0 == " " })
        do {
            let generation = verifier.keyGeneration
            let principal = try verifier.verify(token, now: now)
            remembered = RememberedToken(token: authorization, principal: principal, keyGeneration: generation)
            return .authenticated(principal)
        } catch {
            remembered = nil
            return .rejected(.invalidToken(error.description),
                             challenge: #"Bearer realm="brain-gateway", error="invalid_token", error_description=""# + error.description + #"""#)
        }
    }

    private func isPublic(_ uri: String) -> Bool {
        guard !publicPaths.isEmpty else { return false }
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        for prefix in publicPaths {
            if path == prefix { return true }
            if path.hasPrefix(prefix), path.dropFirst(prefix.count).first == "/" { return true }
        }
        return false
    }
}

extension GatewayError {
    public static let unauthenticated = GatewayError(status: .unauthorized, code: "unauthenticated", detail: "a bearer token is required")
    public static func invalidToken(_ why: String) -> Self { .init(status: .unauthorized, code: "invalid_token", detail: why) }
    public static func forbidden(_ why: String) -> Self { .init(status: .forbidden, code: "forbidden", detail: why) }
}
