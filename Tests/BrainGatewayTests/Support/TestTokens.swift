import Crypto
import Foundation

/// Client tokens for tests, signed by hand (HS256 with swift-crypto) so a test can put any
/// header and claims in them — including broken ones.
enum TestTokens {
    static let secret = "test-secret-0123456789abcdef0123456789abcdef"
    static let tenantA = "11111111-1111-4111-8111-111111111111"
    static let tenantB = "22222222-2222-4222-8222-222222222222"

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func json(_ object: [String: Any]) -> Data {
        try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    /// A token with the given claims (defaults: a user of tenant A, valid for an hour).
    static func make(
        sub: String? = "user-1", tenant: String? = tenantA, roles: [String]? = [], expiresIn: Double? = 3600,
        extra: [String: Any] = [:], header: [String: Any] = ["alg": "HS256", "typ": "JWT"], secret: String = secret
    ) -> String {
        var claims: [String: Any] = extra
        if let sub { claims["sub"] = sub }
        if let tenant { claims["tenant_id"] = tenant }
        if let roles { claims["roles"] = roles }
        if let expiresIn { claims["exp"] = Int(Date().timeIntervalSince1970 + expiresIn) }
        let signingInput = base64url(json(header)) + "." + base64url(json(claims))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return signingInput + "." + base64url(Data(mac))
    }

    static let user = make()
    static let admin = make(sub: "admin-1", roles: ["platform-admin"])

    /// `request` with `Authorization: Bearer <token>` after every request line (several when
    /// requests are pipelined), unless it carries its own.
    static func authorize(_ request: String, token: String = user) -> String {
        guard !request.lowercased().contains("\r\nauthorization:") else { return request }
        return request
            .replacingOccurrences(of: " HTTP/1.1\r\n", with: " HTTP/1.1\r\nAuthorization: Bearer \(token)\r\n")
            .replacingOccurrences(of: " HTTP/1.0\r\n", with: " HTTP/1.0\r\nAuthorization: Bearer \(token)\r\n")
    }
}

import AsyncHTTPClient

/// `request` carrying the test user's token.
func authorized(_ request: HTTPClientRequest, token: String = TestTokens.user) -> HTTPClientRequest {
    var request = request
    request.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(token)")
    return request
}
