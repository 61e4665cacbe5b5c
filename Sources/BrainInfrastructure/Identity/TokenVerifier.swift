import BrainDomain
import Foundation
import JWTKit

/// Verifies a client's bearer JWT synchronously, on the event loop that received it.
///
/// Keys come from jwt-kit (`JWTKeyCollection` is an actor, so its `verify` would cost a thread
/// hop per request); they are taken out of it once, as `JWTAlgorithm`s whose signature check is
/// synchronous. The token's header must name an algorithm one of those keys implements — so
/// `alg: none`, an HS256 token presented against an RSA key, or any unknown algorithm never
/// reach a signature check. Claims: `exp` required, `nbf`/`iat` honoured
/// with a leeway, `sub` and `tenant_id` (a UUID) required, `roles` an array of strings,
/// `iss`/`aud` checked when configured.
public struct TokenVerifier: Sendable {
    public struct Key: Sendable {
        public let kid: String?
        public let algorithm: any JWTAlgorithm

        public init(kid: String?, algorithm: any JWTAlgorithm) {
            self.kid = kid
            self.algorithm = algorithm
        }
    }

    public enum Rejection: Error, Equatable, CustomStringConvertible {
        case malformed
        case unsupportedAlgorithm
        case unknownKey
        case badSignature
        case expired
        case notYetValid
        case missingClaim(String)
        case invalidClaim(String)

        public var description: String {
            switch self {
            case .malformed: "the token is not a well-formed JWT"
            case .unsupportedAlgorithm: "the token's algorithm is not accepted"
            case .unknownKey: "the token was signed with an unknown key"
            case .badSignature: "the token's signature is invalid"
            case .expired: "the token has expired"
            case .notYetValid: "the token is not valid yet"
            case .missingClaim(let c): "the token has no '\(c)' claim"
            case .invalidClaim(let c): "the token's '\(c)' claim is invalid"
            }
        }
    }

    private let ring: KeyRing
    private let leewaySeconds: Double
    private let issuer: String?
    private let audience: String?
    /// Told (without blocking) when a token names a key the ring does not hold.
    private let onUnknownKey: (@Sendable () -> Void)?

    public init(
        ring: KeyRing, leewaySeconds: Double = 30, issuer: String? = nil, audience: String? = nil,
        onUnknownKey: (@Sendable () -> Void)? = nil
    ) {
        self.ring = ring
        self.leewaySeconds = leewaySeconds
        self.issuer = issuer
        self.audience = audience
        self.onUnknownKey = onUnknownKey
    }

    /// The HS256 key for `secret` (`JWT_SECRET`), taken out of jwt-kit.
    public static func hs256Key(secret: String) async throws -> Key {
        let collection = JWTKeyCollection()
        await collection.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return Key(kid: nil, algorithm: try await collection.getKey(alg: "HS256"))
    }

    /// A verifier for HS256 tokens signed with `secret` only.
    public static func hs256(secret: String, leewaySeconds: Double = 30, issuer: String? = nil, audience: String? = nil) async throws -> TokenVerifier {
        TokenVerifier(ring: KeyRing(fixed: [try await hs256Key(secret: secret)]), leewaySeconds: leewaySeconds, issuer: issuer, audience: audience)
    }

    /// The key set's generation (see `KeyRing.generation`).
    public var keyGeneration: Int { ring.generation }

    /// Until when a principal verified earlier may be relied on: its `exp`, with the leeway.
    public func validUntil(_ principal: Principal) -> Double {
        principal.expiresAt + leewaySeconds
    }

    public func verify(_ token: Substring, now: Double) throws(Rejection) -> Principal {
        let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty,
              let headerBytes = Base64URL.decode(parts[0]),
              let payloadBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]),
              let header = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any],
              let alg = header["alg"] as? String
        else { throw .malformed }

        let kid = header["kid"] as? String
        let keys = ring.keys
        let candidates = keys.filter { $0.algorithm.name == alg }
        guard !candidates.isEmpty else {
            // A new key of an algorithm not seen before may be in a rotated JWKS.
            if kid != nil, !keys.contains(where: { $0.kid == kid }) { onUnknownKey?() }
            throw .unsupportedAlgorithm
        }
        let matching = kid.map { kid in candidates.filter { $0.kid == kid || $0.kid == nil } } ?? candidates
        guard !matching.isEmpty else {
            onUnknownKey?()
            throw .unknownKey
        }

        let signingInput = Array(token.utf8[parts[0].startIndex..<parts[1].endIndex])
        var valid = false
        for key in matching where (try? key.algorithm.verify(signature, signs: signingInput)) == true {
            valid = true
            break
        }
        guard valid else { throw .badSignature }

        guard let claims = try? JSONSerialization.jsonObject(with: Data(payloadBytes)) as? [String: Any] else { throw .malformed }
        return try principal(from: claims, now: now)
    }

    private func principal(from claims: [String: Any], now: Double) throws(Rejection) -> Principal {
        guard let expValue = claims["exp"] else { throw .missingClaim("exp") }
        guard let exp = Self.number(expValue) else { throw .invalidClaim("exp") }
        guard now < exp + leewaySeconds else { throw .expired }
        if let nbfValue = claims["nbf"] {
            guard let nbf = Self.number(nbfValue) else { throw .invalidClaim("nbf") }
            guard now + leewaySeconds >= nbf else { throw .notYetValid }
        }
        if let iatValue = claims["iat"] {
            guard let iat = Self.number(iatValue) else { throw .invalidClaim("iat") }
            guard now + leewaySeconds >= iat else { throw .notYetValid }
        }
        if let issuer {
            guard let iss = claims["iss"] as? String else { throw .missingClaim("iss") }
            guard iss == issuer else { throw .invalidClaim("iss") }
        }
        if let audience {
            switch claims["aud"] {
            case let single as String where single == audience: break
            case let many as [Any] where many.contains(where: { ($0 as? String) == audience }): break
            case nil: throw .missingClaim("aud")
            default: throw .invalidClaim("aud")
            }
        }
        guard let subValue = claims["sub"] else { throw .missingClaim("sub") }
        guard let sub = subValue as? String, !sub.isEmpty, sub.utf8.count <= 256 else { throw .invalidClaim("sub") }
        guard let tenantValue = claims["tenant_id"] else { throw .missingClaim("tenant_id") }
        guard let tenantText = tenantValue as? String, let tenant = try? TenantID(tenantText) else { throw .invalidClaim("tenant_id") }
        var roles: [String] = []
        if let rolesValue = claims["roles"] {
            guard let list = rolesValue as? [Any] else { throw .invalidClaim("roles") }
            for role in list {
                guard let name = role as? String else { throw .invalidClaim("roles") }
                roles.append(name)
            }
        }
        return Principal(subject: sub, tenant: tenant, roles: roles, expiresAt: exp)
    }

    /// A JSON number (never a boolean, which Foundation also bridges to NSNumber).
    private static func number(_ value: Any) -> Double? {
        if value is Bool { return nil }
        return (value as? NSNumber)?.doubleValue
    }
}

/// Base64url without padding (RFC 7515 §2), strict: other characters make the token malformed.
enum Base64URL {
    static func decode<Bytes: Collection>(_ text: Bytes) -> [UInt8]? where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for c in text {
            let v: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = c - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = c - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0") + 52
            case UInt8(ascii: "-"): v = 62
            case UInt8(ascii: "_"): v = 63
            default: return nil
            }
            buffer = (buffer << 6) | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        // A dangling 6 bits (length % 4 == 1) cannot be valid base64.
        return bits >= 6 ? nil : out
    }

    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
