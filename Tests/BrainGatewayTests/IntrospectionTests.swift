import BrainApplication
import Foundation
import Testing

/// Opaque tokens checked with the auth service (RFC 7662), against a real introspection
/// endpoint on loopback.
@Suite struct IntrospectionTests {
    static func active(sub: String = "opaque-user", roles: [String] = [], expiresIn: Double = 3600) -> String {
        let exp = Int(Date().timeIntervalSince1970 + expiresIn)
        let roleList = roles.map { "\"\($0)\"" }.joined(separator: ",")
        return #"{"active": true, "sub": "\#(sub)", "tenant_id": "\#(TestTokens.tenantA)", "roles": [\#(roleList)], "exp": \#(exp)}"#
    }

    /// A gateway whose `svc` is `backend` and whose auth service is `auth`.
    static func withIntrospection(
        cacheSeconds: Int = 300, _ body: (GatewayHarness, _ backend: TestBackend, _ auth: TestBackend) async throws -> Void
    ) async throws {
        let backend = try await TestBackend()
        let auth = try await TestBackend()
        let gateway = try await GatewayHarness.start(yaml: "services:\n  - {name: svc, url: \(backend.url)}\n") {
            $0.introspection = IntrospectionSettings(
                url: auth.url + "/oauth/introspect", clientID: "brain-gateway", clientSecret: "client-secret", cacheSeconds: cacheSeconds)
        }
        try await withTeardown {
            try await body(gateway, backend, auth)
        } teardown: {
            await gateway.stop()
            await backend.shutdown()
            await auth.shutdown()
        }
    }

    static func get(_ gateway: GatewayHarness, token: String, path: String = "/svc/ok") async throws -> RawResponse {
        try await gateway.send("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", token: token)
    }

    @Test func fiftyConcurrentRequestsWithANewTokenCostOneIntrospection() async throws {
        try await Self.withIntrospection { gateway, backend, auth in
            auth.introspection = ["opaque-abc": Self.active()]
            auth.introspectionDelayMilliseconds = 300
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<50 { group.addTask { try await Self.get(gateway, token: "opaque-abc").status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 50))
            #expect(auth.introspectionCalls.count == 1)
            let expected = "Basic " + Data("brain-gateway:client-secret".utf8).base64EncodedString()
            #expect(auth.introspectionCalls.first?.authorization == expected)
            // The backend sees the introspected identity, as for a JWT.
            let inspected = try await Self.get(gateway, token: "opaque-abc", path: "/svc/inspect")
            #expect(inspected.text.contains(TestTokens.tenantA))
            // A JWT the gateway verifies itself never costs a call.
            #expect(try await Self.get(gateway, token: TestTokens.user).status == 200)
            #expect(auth.introspectionCalls.count == 1)
            _ = backend
        }
    }

    @Test func inactiveTokensAre401AndRememberedBriefly() async throws {
        try await Self.withIntrospection { gateway, _, auth in
            let refused = try await Self.get(gateway, token: "opaque-revoked")
            #expect(refused.status == 401)
            #expect(refused.header("WWW-Authenticate")?.contains("invalid_token") == true)
            let body = try #require(JSONSerialization.jsonObject(with: Data(refused.body)) as? [String: Any])
            #expect(body["error"] as? String == "invalid_token")
            #expect(try await Self.get(gateway, token: "opaque-revoked").status == 401)
            #expect(auth.introspectionCalls.count == 1, "the inactive answer is cached")
            // Active but without a tenant: refused too.
            auth.introspection = ["opaque-no-tenant": #"{"active": true, "sub": "x"}"#]
            #expect(try await Self.get(gateway, token: "opaque-no-tenant").status == 401)
        }
    }

    @Test func aRevocationIsSeenAfterTheCacheTime() async throws {
        try await Self.withIntrospection(cacheSeconds: 3) { gateway, _, auth in
            auth.introspection = ["opaque-soon-revoked": Self.active()]
            let first = ContinuousClock.now
            #expect(try await Self.get(gateway, token: "opaque-soon-revoked").status == 200)
            auth.introspection = [:]
            let again = try await Self.get(gateway, token: "opaque-soon-revoked").status
            // On a starved machine the second request may come after the cache time itself.
            if ContinuousClock.now - first < .milliseconds(2900) { #expect(again == 200, "cached for 3 s") }
            // The cache time counts from the first answer, which a starved machine may get late:
            // ask until the revocation shows, for at most 3 s past the cache time.
            try await Task.sleep(until: first + .milliseconds(3300))
            var status = try await Self.get(gateway, token: "opaque-soon-revoked").status
            while status == 200, ContinuousClock.now < first + .seconds(6) {
                try await Task.sleep(for: .milliseconds(100))
                status = try await Self.get(gateway, token: "opaque-soon-revoked").status
            }
            #expect(status == 401)
            #expect(auth.introspectionCalls.count == 2)
        }
    }

    @Test func authServiceDownIs503NeverAdmittedNever401() async throws {
        try await Self.withIntrospection { gateway, backend, auth in
            await auth.shutdown()
            let r = try await Self.get(gateway, token: "opaque-while-down")
            #expect(r.status == 503)
            #expect(r.header("WWW-Authenticate") == nil)
            let body = try #require(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
            #expect(body["error"] as? String == "auth_unavailable")
            #expect(backend.requests.isEmpty)
            // The control plane refuses alike.
            let admin = try await gateway.send("GET /api/brain/services HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", token: "opaque-while-down")
            #expect(admin.status == 503)
        }
    }

    @Test func aBodySentDuringIntrospectionIsForwardedWhole() async throws {
        try await Self.withIntrospection { gateway, _, auth in
            auth.introspection = ["opaque-body": Self.active()]
            auth.introspectionDelayMilliseconds = 200
            let payload = String(repeating: "0123456789", count: 2000)
            let r = try await gateway.send(
                "POST /svc/echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(payload.utf8.count)\r\nConnection: close\r\n\r\n\(payload)", token: "opaque-body")
            #expect(r.status == 200)
            #expect(r.text == payload)
        }
    }

    @Test func theAdminAPIAcceptsAnIntrospectedAdmin() async throws {
        try await Self.withIntrospection { gateway, _, auth in
            auth.introspection = ["opaque-admin": Self.active(sub: "ops", roles: ["platform-admin"]), "opaque-plain": Self.active()]
            let ok = try await gateway.send("GET /api/brain/services HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", token: "opaque-admin")
            #expect(ok.status == 200)
            let forbidden = try await gateway.send("GET /api/brain/services HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", token: "opaque-plain")
            #expect(forbidden.status == 403)
        }
    }
}
