import Crypto
import CryptoExtras
import Foundation
import Testing

/// Client tokens signed with keys from a JWKS the test serves and rotates.
@Suite struct JWKSTests {
    struct SigningKey {
        let kid: String
        let key = P256.Signing.PrivateKey()

        var jwk: [String: Any] {
            let x963 = key.publicKey.x963Representation
            return ["kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
                    "x": TestTokens.base64url(x963.dropFirst().prefix(32)), "y": TestTokens.base64url(x963.suffix(32))]
        }

        func token(sub: String = "jwks-user", expiresIn: Double = 3600) throws -> String {
            let header = TestTokens.base64url(TestTokens.json(["alg": "ES256", "typ": "JWT", "kid": kid]))
            let claims = TestTokens.base64url(TestTokens.json([
                "sub": sub, "tenant_id": TestTokens.tenantA, "roles": [], "exp": Int(Date().timeIntervalSince1970 + expiresIn),
            ]))
            let signature = try key.signature(for: Data("\(header).\(claims)".utf8))
            return "\(header).\(claims).\(TestTokens.base64url(signature.rawRepresentation))"
        }
    }

    static func document(_ keys: [SigningKey]) -> String {
        String(decoding: TestTokens.json(["keys": keys.map(\.jwk)]), as: UTF8.self)
    }

    static func status(_ gateway: GatewayHarness, token: String) async throws -> Int {
        try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", token: token).status
    }

    @Test func rotationUnknownKidsAndAnOutageAreHandled() async throws {
        let idp = try await TestBackend()
        let k1 = SigningKey(kid: "k1"), k2 = SigningKey(kid: "k2"), rogue = SigningKey(kid: "k1")
        idp.jwks = Self.document([k1])
        let backend = try await TestBackend()
        let gateway = try await GatewayHarness.start(yaml: oneService(backend), useSecret: false) {
            $0.jwtJWKSURL = idp.url + "/jwks"
            $0.jwksRefreshSeconds = 3600
        }
        // Fetched at start: k1 tokens work, a token signed by another key claiming k1 does not.
        #expect(try await Self.status(gateway, token: try k1.token()) == 200)
        #expect(try await Self.status(gateway, token: try rogue.token()) == 401)
        // HS256 tokens have no key here.
        #expect(try await Self.status(gateway, token: TestTokens.user) == 401)

        // The provider rotates to k2 while traffic flows: k1 traffic keeps succeeding
        // throughout, and the first k2 token triggers a refresh.
        let k1Token = try k1.token()
        let steady = Task {
            var statuses: [Int] = []
            for _ in 0..<40 {
                statuses.append(try await Self.status(gateway, token: k1Token))
                try await Task.sleep(for: .milliseconds(25))
            }
            return statuses
        }
        try await Task.sleep(for: .milliseconds(200))
        idp.jwks = Self.document([k1, k2])
        var k2Status = try await Self.status(gateway, token: try k2.token())
        for _ in 0..<80 where k2Status != 200 {
            try await Task.sleep(for: .milliseconds(100))
            k2Status = try await Self.status(gateway, token: try k2.token())
        }
        #expect(k2Status == 200)
        #expect(try await steady.value.allSatisfy { $0 == 200 })

        // Unknown kids do not cause a fetch per request.
        let fetchesBefore = idp.jwksFetches
        for i in 0..<30 { _ = try await Self.status(gateway, token: try SigningKey(kid: "made-up-\(i)").token()) }
        #expect(idp.jwksFetches - fetchesBefore <= 1)

        // The endpoint goes down: the last good keys keep working.
        idp.jwks = ""
        try await Task.sleep(for: .milliseconds(5500))
        _ = try await Self.status(gateway, token: try SigningKey(kid: "k3").token())  // prompts a (failing) refresh
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await Self.status(gateway, token: try k2.token()) == 200)
        #expect(gateway.gateway.jwks?.fetchCount ?? 0 >= 3)

        await gateway.stop()
        await backend.shutdown()
        await idp.shutdown()
    }

    @Test func rs256KeysWorkAndAlgorithmConfusionDoesNot() async throws {
        let idp = try await TestBackend()
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let primitives = try rsa.publicKey.getKeyPrimitives()
        idp.jwks = String(decoding: TestTokens.json(["keys": [[
            "kty": "RSA", "kid": "r1", "alg": "RS256",
            "n": TestTokens.base64url(primitives.modulus), "e": TestTokens.base64url(primitives.publicExponent),
        ]]]), as: UTF8.self)
        let backend = try await TestBackend()
        let gateway = try await GatewayHarness.start(yaml: oneService(backend), useSecret: false) {
            $0.jwtJWKSURL = idp.url + "/jwks"
        }
        func rs256Token() throws -> String {
            let header = TestTokens.base64url(TestTokens.json(["alg": "RS256", "typ": "JWT", "kid": "r1"]))
            let claims = TestTokens.base64url(TestTokens.json(["sub": "r", "tenant_id": TestTokens.tenantA, "exp": Int(Date().timeIntervalSince1970 + 600)]))
            let signature = try rsa.signature(for: Data("\(header).\(claims)".utf8), padding: .insecurePKCS1v1_5)
            return "\(header).\(claims).\(TestTokens.base64url(signature.rawRepresentation))"
        }
        #expect(try await Self.status(gateway, token: try rs256Token()) == 200)
        // The classic confusion: an HS256 token whose HMAC key is the RSA public key.
        let confused = TestTokens.make(header: ["alg": "HS256", "kid": "r1"], secret: rsa.publicKey.pemRepresentation)
        #expect(try await Self.status(gateway, token: confused) == 401)
        await gateway.stop()
        await backend.shutdown()
        await idp.shutdown()
    }

    @Test func ed25519KeysWork() async throws {
        let idp = try await TestBackend()
        let ed = Curve25519.Signing.PrivateKey()
        idp.jwks = String(decoding: TestTokens.json(["keys": [[
            "kty": "OKP", "crv": "Ed25519", "kid": "e1", "x": TestTokens.base64url(ed.publicKey.rawRepresentation),
        ]]]), as: UTF8.self)
        let backend = try await TestBackend()
        let gateway = try await GatewayHarness.start(yaml: oneService(backend), useSecret: false) {
            $0.jwtJWKSURL = idp.url + "/jwks"
        }
        let header = TestTokens.base64url(TestTokens.json(["alg": "EdDSA", "typ": "JWT", "kid": "e1"]))
        let claims = TestTokens.base64url(TestTokens.json(["sub": "ed", "tenant_id": TestTokens.tenantA, "exp": Int(Date().timeIntervalSince1970 + 600)]))
        let signature = try ed.signature(for: Data("\(header).\(claims)".utf8))
        let token = "\(header).\(claims).\(TestTokens.base64url(signature))"
        #expect(try await Self.status(gateway, token: token) == 200)
        let forged = "\(header).\(claims).\(TestTokens.base64url(try Curve25519.Signing.PrivateKey().signature(for: Data("\(header).\(claims)".utf8))))"
        #expect(try await Self.status(gateway, token: forged) == 401)
        await gateway.stop()
        await backend.shutdown()
        await idp.shutdown()
    }
}
