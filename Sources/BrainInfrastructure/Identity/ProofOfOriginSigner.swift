import BrainDomain
import Crypto
import Foundation

/// Signs `X-Brain-Token`, the proof that a request came through the gateway: an ES256 JWT
/// with `iss` = `brain-gateway`, `aud` = the service, the caller's `sub`, `tenant_id` and
/// `roles`, `iat`, and `exp` at most five minutes later.
/// Backends verify it with any JWT library against `/.well-known/jwks.json`.
public struct ProofOfOriginSigner: Sendable {
    public static let issuer = "brain-gateway"
    public static let lifetimeSeconds: Double = 300

    private let key: P256.Signing.PrivateKey
    public let keyID: String
    /// The public key's coordinates, base64url (JWK `x` and `y`).
    private let x: String
    private let y: String

    public init(key: P256.Signing.PrivateKey) {
        self.key = key
        let x963 = key.publicKey.x963Representation
        x = Base64URL.encode(Array(x963.dropFirst().prefix(32)))
        y = Base64URL.encode(Array(x963.suffix(32)))
        // RFC 7638 thumbprint of the public key: stable for a key, different for the next one.
        let canonical = #"{"crv":"P-256","kty":"EC","x":""# + x + #"","y":""# + y + #""}"#
        keyID = Base64URL.encode(Array(SHA256.hash(data: Data(canonical.utf8))))
    }

    /// A key from PEM (PKCS#8 or SEC1), as `BRAIN_GATEWAY_SIGNING_KEY(_FILE)` hold it.
    public init(pem: String) throws {
        self.init(key: try P256.Signing.PrivateKey(pemRepresentation: pem))
    }

    public static func generated() -> ProofOfOriginSigner { ProofOfOriginSigner(key: P256.Signing.PrivateKey()) }

    /// The public key set served at `/.well-known/jwks.json`.
    public var jwksJSON: String {
        #"{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":""# + keyID
            + #"","x":""# + x + #"","y":""# + y + #""}]}"#
    }

    /// Signs a token for one (service, caller) pair; `principal` is nil on a public path.
    public func sign(service: String, principal: Principal?, tenant: TenantID?, now: Double) throws -> (token: String, expiresAt: Double) {
        let iat = Int(now)
        let exp = iat + Int(Self.lifetimeSeconds)
        var claims: [String: Any] = [
            "iss": Self.issuer, "aud": service, "sub": principal?.subject ?? "anonymous",
            "roles": principal?.roles ?? [], "iat": iat, "exp": exp,
        ]
        if let tenant { claims["tenant_id"] = tenant.value }
        let header = #"{"alg":"ES256","typ":"JWT","kid":""# + keyID + #""}"#
        let payload = try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys, .withoutEscapingSlashes])
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload))
        let signature = try key.signature(for: Data(signingInput.utf8))
        return (signingInput + "." + Base64URL.encode(Array(signature.rawRepresentation)), Double(exp))
    }
}
