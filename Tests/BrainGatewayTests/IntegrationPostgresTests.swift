import Foundation
import PostgresNIO
import Testing

/// The embedded secret store on PostgreSQL: two replicas with one key share tenants'
/// credentials through the database (ciphertext only), and see a deactivation within the
/// 5-second cache.
@Suite(.enabled(if: PostgresTestDatabase.available, "needs the PostgreSQL cluster scripts/test starts"))
struct IntegrationPostgresTests {
    static func call(_ gateway: GatewayProcess, _ method: String, _ path: String, body: String? = nil, token: String) async throws -> RawResponse {
        let length = body.map { "Content-Length: \($0.utf8.count)\r\n" } ?? ""
        return try await RawHTTP.send(
            port: gateway.port,
            "\(method) \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n\(length)Connection: close\r\n\r\n\(body ?? "")")
    }

    @Test func replicasShareSealedCredentials() async throws {
        let database = try await PostgresTestDatabase.create()
        let (provider, _) = try await IntegrationProxyTests.provider()
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let environment = [
            "DATABASE_URL": database.gatewayURL, "BRAIN_GATEWAY_MIGRATION_DATABASE_URL": database.ownerURL, "BRAIN_GATEWAY_SECRETS_KEY": key,
        ]
        let yaml = IntegrationProxyTests.yaml(provider)
        let a = try await GatewayProcess(yaml: yaml, environment: environment)
        let b = try await GatewayProcess(yaml: yaml, environment: environment)
        try await withTeardown {
            let activated = try await IntegrationPostgresTests.call(
                a, "PUT", "/api/brain/integrations/acme", body: #"{"credentials":{"api_key":"\#(IntegrationProxyTests.goodKey)"}}"#,
                token: IntegrationProxyTests.tenantAdmin)
            #expect(activated.status == 200)
            // B reads the row A sealed.
            #expect(try await IntegrationPostgresTests.call(b, "GET", "/api/brain/integrations/acme/proxy/items", token: IntegrationProxyTests.caller).status == 200)
            // The database holds ciphertext only, in the tenant's row.
            let rows = try await database.withClient(user: "postgres") { client in
                var out: [(String, String)] = []
                for try await row in try await client.query("SELECT tenant_id::text, envelope FROM integration_secrets", logger: Logger(label: "test"))
                    .decode((String, String).self) { out.append(row) }
                return out
            }
            #expect(rows.count == 1 && rows.first?.0 == TestTokens.tenantA)
            #expect(rows.first?.1.hasPrefix("v1:") == true && rows.first?.1.contains(IntegrationProxyTests.goodKey) == false)
            // Deactivated on A: B stops within its 5-second cache.
            #expect(try await IntegrationPostgresTests.call(a, "DELETE", "/api/brain/integrations/acme", token: IntegrationProxyTests.tenantAdmin).status == 204)
            var status = 0
            for _ in 0..<40 {
                status = try await IntegrationPostgresTests.call(b, "GET", "/api/brain/integrations/acme/proxy/items", token: IntegrationProxyTests.caller).status
                if status == 409 { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(status == 409)
        } teardown: {
            await a.stop()
            await b.stop()
            await provider.shutdown()
        }
    }
}

/// Two replicas sharing credentials (PostgreSQL) and Redis: an expired OAuth token is
/// refreshed once across both — the other replica waits for the new token instead of
/// spending the rotating refresh token a second time.
@Suite(.enabled(if: PostgresTestDatabase.available && RedisTestServer.available, "needs PostgreSQL and redis-server (scripts/test)"))
struct OAuthRefreshAcrossReplicasTests {
    @Test func twoReplicasMakeOneRefresh() async throws {
        let database = try await PostgresTestDatabase.create()
        let redis = try await RedisTestServer()
        // The activation's refresh issues a token inside the 30 s margin; the next is slow and good for an hour.
        let (provider, refreshes) = try await IntegrationProxyTests.provider { n in
            .json(#"{"access_token":"at-\#(n)","expires_in":\#(n == 1 ? 31 : 3600),"refresh_token":"rt-\#(n)"}"#, delay: n == 1 ? 0 : 400)
        }
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let environment = [
            "DATABASE_URL": database.gatewayURL, "BRAIN_GATEWAY_MIGRATION_DATABASE_URL": database.ownerURL, "BRAIN_GATEWAY_SECRETS_KEY": key,
            "REDIS_URL": redis.url,
        ]
        let yaml = IntegrationProxyTests.yaml(provider)
        let a = try await GatewayProcess(yaml: yaml, environment: environment)
        let b = try await GatewayProcess(yaml: yaml, environment: environment)
        try await withTeardown {
            let activated = try await IntegrationPostgresTests.call(
                a, "PUT", "/api/brain/integrations/acme-oauth", body: #"{"credentials":{"client_id":"cid","client_secret":"cs-123","refresh_token":"rt-0"}}"#,
                token: IntegrationProxyTests.tenantAdmin)
            #expect(activated.status == 200 && refreshes.withLockedValue { $0 } == 1)
            try await Task.sleep(for: .milliseconds(1500))
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<20 {
                    group.addTask {
                        try await IntegrationPostgresTests.call(i % 2 == 0 ? a : b, "GET", "/api/brain/integrations/acme-oauth/proxy/contacts", token: IntegrationProxyTests.caller).status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 20))
            #expect(refreshes.withLockedValue { $0 } == 2, "one refresh at activation, one for both replicas")
        } teardown: {
            await a.stop()
            await b.stop()
            await redis.stop()
            await provider.shutdown()
        }
    }
}
