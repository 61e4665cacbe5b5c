import BrainDomain
import Foundation
import JWTKit

/// `--dev`: a random HS256 key for this run, and a sample platform-admin token signed with it,
/// so a developer can call the gateway at once. Never used when a key is configured.
public struct DevelopmentCredentials: Sendable {
    public let secret: String
    public let sampleAdminToken: String
    public static let sampleTenant = "00000000-0000-4000-8000-000000000000"

    struct Claims: JWTPayload {
        let sub: SubjectClaim
        let tenant_id: String
        let roles: [String]
        let exp: ExpirationClaim
        let iat: IssuedAtClaim

        func verify(using algorithm: some JWTAlgorithm) throws { try exp.verifyNotExpired() }
    }

    public static func generate(validFor seconds: Double = 24 * 3600) async throws -> DevelopmentCredentials {
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let now = Date()
        let token = try await keys.sign(Claims(
            sub: "dev-admin", tenant_id: sampleTenant, roles: [Principal.platformAdminRole],
            exp: .init(value: now.addingTimeInterval(seconds)), iat: .init(value: now)))
        return DevelopmentCredentials(secret: secret, sampleAdminToken: token)
    }
}
