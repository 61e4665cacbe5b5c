import Foundation
import Testing

/// Authentication, tenant context and permissions on the data plane, through real sockets.
@Suite struct IdentityTests {
    static func get(_ gateway: GatewayHarness, _ path: String, token: String?, headers: String = "") async throws -> RawResponse {
        let auth = token.map { "Authorization: Bearer \($0)\r\n" } ?? ""
        return try await RawHTTP.send(port: gateway.port, "GET \(path) HTTP/1.1\r\nHost: x\r\n\(auth)\(headers)Connection: close\r\n\r\n")
    }

    static func error(_ r: RawResponse) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: String])?["error"]
    }

    @Test func missingTokenIs401WithAChallenge() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            let r = try await Self.get(gateway, "/svc/x", token: nil)
            #expect(r.status == 401)
            #expect(Self.error(r) == "unauthenticated")
            #expect(r.header("www-authenticate")?.hasPrefix("Bearer") == true)
            let basic = try await RawHTTP.send(port: gateway.port, "GET /svc/x HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dXNlcjpwdw==\r\nConnection: close\r\n\r\n")
            #expect(basic.status == 401)
            #expect(backend.requests.isEmpty)
        }
    }

    static let badTokens: [(String, String)] = {
        let now = Date().timeIntervalSince1970
        let t = TestTokens.self
        return [
            ("garbage", "not.a.jwt"),
            ("two parts", "abc.def"),
            ("wrong secret", t.make(secret: "another-secret-0123456789abcdef0123456789")),
            ("expired", t.make(expiresIn: -120)),
            ("not yet valid", t.make(extra: ["nbf": Int(now + 600)])),
            ("issued in the future", t.make(extra: ["iat": Int(now + 600)])),
            ("alg none", t.base64url(t.json(["alg": "none", "typ": "JWT"])) + "." + t.base64url(t.json(["sub": "x", "tenant_id": t.tenantA, "exp": Int(now + 600)])) + "."),
            ("alg none with a signature", t.make(header: ["alg": "none"])),
            ("RS256 header on an HMAC key", t.make(header: ["alg": "RS256"])),
            ("HS512", t.make(header: ["alg": "HS512"])),
            ("unknown alg", t.make(header: ["alg": "XYZ"])),
            ("no exp", t.make(expiresIn: nil)),
            ("no sub", t.make(sub: nil)),
            ("no tenant", t.make(tenant: nil)),
            ("tenant not a UUID", t.make(tenant: "acme")),
            ("roles not a list", t.make(roles: nil, extra: ["roles": "platform-admin"])),
            ("exp as a string", t.make(expiresIn: nil, extra: ["exp": "9999999999"])),
        ]
    }()

    @Test(arguments: badTokens.map(\.0))
    func invalidTokensAre401InvalidToken(name: String) async throws {
        let token = try #require(Self.badTokens.first { $0.0 == name }?.1)
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            let r = try await Self.get(gateway, "/svc/x", token: token)
            #expect(r.status == 401, "\(name)")
            #expect(Self.error(r) == "invalid_token", "\(name)")
            #expect(r.header("www-authenticate")?.contains(#"error="invalid_token""#) == true, "\(name)")
            #expect(backend.requests.isEmpty, "\(name)")
        }
    }

    @Test func validTokensPassWithinTheLeeway() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, _ in
            do { let r = try await Self.get(gateway, "/svc/x", token: TestTokens.user); #expect(r.status == 200) }
            // Expired 10 s ago: inside the 30 s default leeway.
            do { let r = try await Self.get(gateway, "/svc/x", token: TestTokens.make(expiresIn: -10)); #expect(r.status == 200) }
            // The scheme is case-insensitive (RFC 6750 / RFC 9110 §11.1).
            let lower = try await RawHTTP.send(port: gateway.port, "GET /svc/x HTTP/1.1\r\nHost: x\r\nAuthorization: bearer \(TestTokens.user)\r\nConnection: close\r\n\r\n")
            #expect(lower.status == 200)
        }
    }

    @Test func aDifferentTenantHeaderIsForbiddenUnlessPlatformAdmin() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            let spoof = "X-Tenant-ID: \(TestTokens.tenantB)\r\n"
            let user = try await Self.get(gateway, "/svc/inspect", token: TestTokens.user, headers: spoof)
            #expect(user.status == 403)
            #expect(Self.error(user) == "forbidden")
            #expect(backend.requests.isEmpty)
            let bad = try await Self.get(gateway, "/svc/inspect", token: TestTokens.user, headers: "X-Tenant-ID: acme\r\n")
            #expect(bad.status == 400)
            let twice = "X-Tenant-ID: \(TestTokens.tenantA)\r\nX-Tenant-ID: \(TestTokens.tenantB)\r\n"
            let ambiguous = try await Self.get(gateway, "/svc/inspect", token: TestTokens.admin, headers: twice)
            #expect(ambiguous.status == 400)
            let admin = try await Self.get(gateway, "/svc/inspect", token: TestTokens.admin, headers: spoof)
            #expect(admin.status == 200)
            #expect(backend.requests.last?.headers["x-tenant-id"] == [TestTokens.tenantB])
            let own = try await Self.get(gateway, "/svc/inspect", token: TestTokens.user)
            #expect(own.status == 200)
            #expect(backend.requests.last?.headers["x-tenant-id"] == [TestTokens.tenantA])
        }
    }

    @Test func tenantScopedServicesShadowGlobalOnes() async throws {
        let global = try await TestBackend()
        let tenantB = try await TestBackend()
        let yaml = """
            services:
              - {name: svc, url: \(global.url)}
              - {name: svc, url: \(tenantB.url), tenant_id: \(TestTokens.tenantB)}
              - {name: only-b, url: \(tenantB.url), tenant_id: \(TestTokens.tenantB)}
            """
        let gateway = try await GatewayHarness.start(yaml: yaml)
        let userB = TestTokens.make(sub: "user-b", tenant: TestTokens.tenantB)
        do { let r = try await Self.get(gateway, "/svc/a", token: TestTokens.user); #expect(r.status == 200) }
        #expect(global.requests.count == 1 && tenantB.requests.isEmpty)
        do { let r = try await Self.get(gateway, "/svc/b", token: userB); #expect(r.status == 200) }
        #expect(global.requests.count == 1 && tenantB.requests.count == 1)
        // Another tenant's service does not exist for tenant A...
        do { let r = try await Self.get(gateway, "/only-b/x", token: TestTokens.user); #expect(r.status == 404) }
        do { let r = try await Self.get(gateway, "/only-b/x", token: userB); #expect(r.status == 200) }
        // ...unless a platform admin acts for tenant B.
        do { let r = try await Self.get(gateway, "/only-b/x", token: TestTokens.admin, headers: "X-Tenant-ID: \(TestTokens.tenantB)\r\n"); #expect(r.status == 200) }
        await gateway.stop()
        await global.shutdown()
        await tenantB.shutdown()
    }

    @Test func routeAndServiceRolesAreEnforced() async throws {
        try await withGateway(services: { b in
            """
            services:
              - name: svc
                url: \(b.url)
                roles: [reader]
                routes:
                  - {path: "/reports/{id}", methods: [GET]}
                  - {path: "/admin/{action}", methods: [POST], roles: [ops]}
            """
        }) { gateway, backend in
            let nobody = TestTokens.make(roles: [])
            let reader = TestTokens.make(roles: ["reader"])
            let ops = TestTokens.make(roles: ["ops"])
            do { let r = try await Self.get(gateway, "/svc/reports/1", token: nobody); #expect(r.status == 403) }
            do { let r = try await Self.get(gateway, "/svc/reports/1", token: reader); #expect(r.status == 200) }
            // A route's own roles replace the service default.
            let post = "POST /svc/admin/rebuild HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n"
            do { let r = try await RawHTTP.send(port: gateway.port, post + "Authorization: Bearer \(reader)\r\n\r\n"); #expect(r.status == 403) }
            do { let r = try await RawHTTP.send(port: gateway.port, post + "Authorization: Bearer \(ops)\r\n\r\n"); #expect(r.status == 200) }
            do { let r = try await RawHTTP.send(port: gateway.port, post + "Authorization: Bearer \(TestTokens.admin)\r\n\r\n"); #expect(r.status == 200) }
            #expect(backend.requests.count == 3)
            let forbidden = try await Self.get(gateway, "/svc/reports/1", token: nobody)
            #expect(Self.error(forbidden) == "forbidden")
        }
    }

    @Test func publicPathsNeedNoToken() async throws {
        try await withGateway(services: { b in
            "auth:\n  public_paths: [/svc/public]\nservices:\n  - {name: svc, url: \(b.url)}\n"
        }) { gateway, backend in
            do { let r = try await Self.get(gateway, "/svc/public", token: nil); #expect(r.status == 200) }
            do { let r = try await Self.get(gateway, "/svc/public/page?x=1", token: nil); #expect(r.status == 200) }
            do { let r = try await Self.get(gateway, "/svc/publicity", token: nil); #expect(r.status == 401) }
            do { let r = try await Self.get(gateway, "/svc/private", token: nil); #expect(r.status == 401) }
            // No tenant is claimed for an anonymous request.
            #expect(backend.requests.first?.headers["x-tenant-id"].isEmpty == true)
            // A token that is sent is still checked.
            do { let r = try await Self.get(gateway, "/svc/public", token: "bad.token.here"); #expect(r.status == 401) }
            // The control plane's health endpoints are public.
            do { let r = try await Self.get(gateway, "/health/live", token: nil); #expect(r.status == 200) }
        }
    }

    @Test func issuerAndAudienceAreCheckedWhenConfigured() async throws {
        try await withGateway(services: { b in
            "auth:\n  issuer: https://issuer.example\n  audience: brain\nservices:\n  - {name: svc, url: \(b.url)}\n"
        }) { gateway, _ in
            let good = TestTokens.make(extra: ["iss": "https://issuer.example", "aud": ["other", "brain"]])
            do { let r = try await Self.get(gateway, "/svc/x", token: good); #expect(r.status == 200) }
            do { let r = try await Self.get(gateway, "/svc/x", token: TestTokens.make(extra: ["iss": "https://issuer.example"])); #expect(r.status == 401) }
            do { let r = try await Self.get(gateway, "/svc/x", token: TestTokens.make(extra: ["iss": "https://evil.example", "aud": "brain"])); #expect(r.status == 401) }
        }
    }
}

/// The per-connection memory of the last verified token never outlives the token.
@Suite struct RememberedTokenTests {
    @Test func aRememberedTokenStillExpires() async throws {
        try await withGateway(services: { oneService($0) }, configure: { $0.jwtLeewaySeconds = 0 }) { gateway, _ in
            // Long enough to survive a slow start under a loaded parallel test run.
            let expiresAt = Date().addingTimeInterval(6)
            let shortLived = TestTokens.make(expiresIn: 6)
            let connection = try await KeepAliveConnection(port: gateway.port)
            let request = "GET /svc/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(shortLived)\r\n\r\n"
            do { let r = try await connection.send(request); #expect(r.status == 200) }
            do { let r = try await connection.send(request); #expect(r.status == 200) }
            try await Task.sleep(for: .seconds(expiresAt.timeIntervalSinceNow + 0.6))
            let expired = try await connection.send(request)
            #expect(expired.status == 401)
            #expect(expired.header("www-authenticate")?.contains("invalid_token") == true)
            await connection.close()
        }
    }

    @Test func anotherTokenOnTheSameConnectionIsVerifiedAfresh() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, _ in
            let connection = try await KeepAliveConnection(port: gateway.port)
            func get(_ token: String) async throws -> Int {
                try await connection.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n\r\n").status
            }
            do { let s = try await get(TestTokens.user); #expect(s == 200) }
            do { let s = try await get(TestTokens.make(secret: "wrong-secret-0123456789abcdef0123456789")); #expect(s == 401) }
            do { let s = try await get(TestTokens.user); #expect(s == 200) }
            await connection.close()
        }
    }
}
