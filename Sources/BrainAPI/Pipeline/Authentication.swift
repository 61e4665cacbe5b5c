import BrainDomain
import BrainInfrastructure
import NIOCore
import NIOHTTP1
import Synchronization

/// Authentication stage: the caller is who a valid `Authorization: Bearer <token>` says, or the
/// request is refused with 401 and a `WWW-Authenticate` challenge (RFC 6750). Paths listed as
/// public (`auth.public_paths`, matched whole or as a prefix ending at a `/`) pass without one.
///
/// A JWT the gateway can verify (its HS256 secret, its JWKS keys) is checked here, on the event
/// loop. Any other token goes to the auth service's introspection endpoint when one is
/// configured: a cached answer is used at once, otherwise the stage answers
/// `.needsIntrospection` and the caller waits for `introspect` without blocking its loop.
/// The control plane uses the same stage, so both planes accept and refuse the same tokens.
public struct Authentication: Sendable {
    public enum Outcome: Sendable {
        case authenticated(Principal)
        case publicPath
        /// Refused; `challenge` is the `WWW-Authenticate` value of a 401.
        case rejected(GatewayError, challenge: String?)
        /// Not a token the gateway verifies itself and not in the introspection cache.
        case needsIntrospection(token: String)
    }

    private let verifier: TokenVerifier
    private let introspector: TokenIntrospector?
    private let publicPaths: [String]
    private let recentTokens = RecentTokens()

    public init(verifier: TokenVerifier, publicPaths: [String], introspector: TokenIntrospector? = nil) {
        self.verifier = verifier
        self.introspector = introspector
        self.publicPaths = publicPaths.map { $0.count > 1 && $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }

    /// The last token a connection presented, once verified. Clients send the same token on
    /// every request of a keep-alive connection, so checking that it is byte-identical (and
    /// still within its validity, under the same key set) replaces the signature check and
    /// JSON decoding — or the introspection cache's lookup.
    public struct RememberedToken: Sendable {
        let authorization: String
        let principal: Principal
        let keyGeneration: Int
        /// The token's `exp` (with leeway); for an introspected token, the end of its cache time.
        let validUntil: Double
    }

    static let challenge = #"Bearer realm="brain-gateway""#
    static let malformedChallenge = #"Bearer realm="brain-gateway", error="invalid_request""#

    public func authenticate(_ head: some RequestHeadReading, now: Double) -> Outcome {
        var remembered: RememberedToken?
        return authenticate(head, now: now, remembered: &remembered)
    }

    public func authenticate(_ head: some RequestHeadReading, now: Double, remembered: inout RememberedToken?) -> Outcome {
        // The connection's last token again (the usual case): compared where it lies.
        if let last = remembered, last.keyGeneration == verifier.keyGeneration, now < last.validUntil,
            head.headers.first(name: "authorization", is: last.authorization)
        {
            return .authenticated(last.principal)
        }
        let authorization = head.headers.first(name: "authorization")
        if authorization == nil, isPublic(head.uri) { return .publicPath }
        return authenticate(authorization: authorization, now: now, remembered: &remembered)
    }

    /// The stage without its public-path rule, for callers that have the header's value.
    public func authenticate(authorization: String?, now: Double, remembered: inout RememberedToken?) -> Outcome {
        guard let authorization else { return .rejected(.unauthenticated, challenge: Self.challenge) }
        if let last = remembered, last.authorization == authorization, last.keyGeneration == verifier.keyGeneration, now < last.validUntil {
            return .authenticated(last.principal)
        }
        guard let token = BearerToken.parse(authorization) else {
            return .rejected(.malformedAuthorization, challenge: Self.malformedChallenge)
        }
        let generation = verifier.keyGeneration
        do {
            let principal = try verifier.verify(token, now: now)
            remembered = RememberedToken(
                authorization: authorization, principal: principal, keyGeneration: generation,
                validUntil: verifier.validUntil(principal))
            return .authenticated(principal)
        } catch {
            remembered = nil
            guard let introspector, Self.mayBeOpaque(error) else { return Self.invalid(error.description) }
            let text = String(token)
            guard let verdict = introspector.cached(text, now: now) else { return .needsIntrospection(token: text) }
            return outcome(verdict, authorization: authorization, generation: generation, remembered: &remembered)
        }
    }

    /// Tokens that are not JWTs, or JWTs signed with keys the gateway does not hold, may be the
    /// auth service's own; a JWT the gateway's keys reject (bad signature, expired) is not.
    private static func mayBeOpaque(_ rejection: TokenVerifier.Rejection) -> Bool {
        switch rejection {
        case .malformed, .unsupportedAlgorithm, .unknownKey: true
        default: false
        }
    }

    /// Asks the auth service (once per token at a time); `completion` runs on `eventLoop`.
    public func introspect(
        _ token: String, authorization: String, now: Double, on eventLoop: any EventLoop,
        completion: @escaping (Outcome, RememberedToken?) -> Void
    ) {
        guard let introspector else {
            completion(Self.invalid(TokenVerifier.Rejection.malformed.description), nil)
            return
        }
        let generation = verifier.keyGeneration
        let promise = eventLoop.makePromise(of: TokenIntrospector.Verdict.self)
        introspector.introspect(token, now: now) { promise.succeed($0) }
        promise.futureResult.assumeIsolated().whenSuccess { verdict in
            var remembered: RememberedToken?
            let outcome = self.outcome(verdict, authorization: authorization, generation: generation, remembered: &remembered)
            completion(outcome, remembered)
        }
    }

    /// The whole stage for callers that can wait (the control plane).
    /// Control-plane requests have no connection to keep the last token on, so verified tokens
    /// are remembered in `recentTokens`, shared by all of them (the same rules decide whether a
    /// remembered one still stands).
    public func authenticate(authorization: String?, now: Double) async -> Outcome {
        let known = authorization.flatMap { recentTokens.remembered($0) }
        var remembered = known
        var outcome = authenticate(authorization: authorization, now: now, remembered: &remembered)
        if case .needsIntrospection(let token) = outcome, let introspector, let authorization {
            let verdict = await introspector.introspect(token, now: now)
            outcome = self.outcome(verdict, authorization: authorization, generation: verifier.keyGeneration, remembered: &remembered)
        }
        if let remembered, remembered.validUntil != known?.validUntil || remembered.keyGeneration != known?.keyGeneration {
            recentTokens.remember(remembered)
        } else if remembered == nil, let authorization, known != nil {
            recentTokens.forget(authorization)
        }
        return outcome
    }

    private func outcome(
        _ verdict: TokenIntrospector.Verdict, authorization: String, generation: Int, remembered: inout RememberedToken?
    ) -> Outcome {
        switch verdict {
        case .active(let principal, let validUntil):
            remembered = RememberedToken(authorization: authorization, principal: principal, keyGeneration: generation, validUntil: validUntil)
            return .authenticated(principal)
        case .inactive(let reason):
            return Self.invalid(reason)
        case .unavailable:
            // Never a 401 (the token may be fine) and never admitted (it may not be).
            return .rejected(.authUnavailable, challenge: nil)
        }
    }

    private static func invalid(_ why: String) -> Outcome {
        .rejected(.invalidToken(why), challenge: #"Bearer realm="brain-gateway", error="invalid_token", error_description=""# + why + #"""#)
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

/// The one reading of `Authorization: Bearer <token>` (RFC 6750 §2.1): the scheme in any case,
/// one or more spaces, then a non-empty token without spaces.
public enum BearerToken {
    public static func parse(_ authorization: String) -> Substring? {
        let utf8 = authorization.utf8
        guard utf8.count > 7, authorization.prefix(6).lowercased() == "bearer" else { return nil }
        let afterScheme = authorization.dropFirst(6)
        guard afterScheme.first == " " else { return nil }
        let token = afterScheme.drop(while: { $0 == " " })
        guard !token.isEmpty, !token.contains(" ") else { return nil }
        return token
    }
}

extension GatewayError {
    public static let unauthenticated = GatewayError(status: .unauthorized, code: "unauthenticated", detail: "a bearer token is required")
    public static func invalidToken(_ why: String) -> Self { .init(status: .unauthorized, code: "invalid_token", detail: why) }
    public static func forbidden(_ why: String) -> Self { .init(status: .forbidden, code: "forbidden", detail: why) }
    public static let malformedAuthorization = GatewayError(
        status: .unauthorized, code: "unauthenticated", detail: "Authorization must be 'Bearer <token>'")
    public static let authUnavailable = GatewayError(
        status: .serviceUnavailable, code: "auth_unavailable", detail: "the auth service could not be asked about this token; retry later")
}

/// Verified tokens by their exact `Authorization` value, for callers with no connection to keep
/// one on. Bounded: when full it starts over (a full verification is the cost of a miss).
final class RecentTokens: Sendable {
    private let tokens = Mutex<[String: Authentication.RememberedToken]>([:])
    static let capacity = 4096

    func remembered(_ authorization: String) -> Authentication.RememberedToken? {
        tokens.withLock { $0[authorization] }
    }

    func remember(_ token: Authentication.RememberedToken) {
        tokens.withLock { tokens in
            if tokens.count >= Self.capacity, tokens[token.authorization] == nil { tokens.removeAll(keepingCapacity: true) }
            tokens[token.authorization] = token
        }
    }

    func forget(_ authorization: String) {
        _ = tokens.withLock { $0.removeValue(forKey: authorization) }
    }
}
