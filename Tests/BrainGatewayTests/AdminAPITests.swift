import BrainApplication
import BrainDomain
import Foundation
import Testing

/// The admin REST API end to end: every endpoint's success and failure codes.
@Suite struct AdminAPITests {
    static let crm = #"{"name": "crm", "instances": ["http://127.0.0.1:9"], "base_path": "/api/v1/crm", "routes": [{"path": "/deals/{id}", "methods": ["GET"], "roles": []}]}"#

    static func call(_ gateway: GatewayHarness, _ method: String, _ path: String, body: String? = nil, headers: String = "", token: String = TestTokens.admin) async throws -> RawResponse {
        let length = body.map { "Content-Length: \($0.utf8.count)\r\n" } ?? ""
        return try await gateway.send("\(method) \(path) HTTP/1.1\r\nHost: x\r\n\(headers)\(length)Connection: close\r\n\r\n\(body ?? "")", token: token)
    }

    static func json(_ r: RawResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]) ?? [:]
    }

    @Test func servicesCrudWithETagsAndErrors() async throws {
        try await withGateway(services: { _ in "services: []" }) { gateway, backend in
            // Authorisation: a token is needed, and platform-admin.
            #expect(try await Self.call(gateway, "GET", "/api/brain/services", token: "").status == 401)
            let unauthenticated = try await RawHTTP.send(port: gateway.port, "GET /api/brain/services HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(unauthenticated.status == 401 && unauthenticated.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
            let user = try await Self.call(gateway, "GET", "/api/brain/services", token: TestTokens.user)
            #expect(user.status == 403 && Self.json(user)["error"] as? String == "forbidden")

            // Create: 201 with the document, ETag and Location; the new service proxies at once.
            let document = Self.crm.replacingOccurrences(of: "http://127.0.0.1:9", with: backend.url)
            let created = try await Self.call(gateway, "POST", "/api/brain/services", body: document)
            #expect(created.status == 201)
            #expect(created.header("ETag") == "\"1\"")
            #expect(created.header("Location") == "/api/brain/services/crm")
            #expect(Self.json(created)["status"] as? String == "healthy")
            let proxied = try await gateway.send("GET /crm/deals/7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(proxied.status == 200 && proxied.text == "{\"path\":\"/api/v1/crm/deals/7\"}")

            // Duplicates, validation.
            #expect(try await Self.call(gateway, "POST", "/api/brain/services", body: document).status == 409)
            let invalid = try await Self.call(gateway, "POST", "/api/brain/services", body: #"{"name": "bad", "instances": ["ftp://x"]}"#)
            #expect(invalid.status == 422)
            #expect(Self.json(invalid)["error"] as? String == "invalid_request")
            #expect(Self.json(invalid)["field"] as? String == "instances[0]")
            let nested = try await Self.call(gateway, "POST", "/api/brain/services", body: #"{"name": "bad", "url": "http://a", "routes": [{"path": "no-slash"}]}"#)
            #expect(Self.json(nested)["field"] as? String == "routes[0].path")
            #expect(Self.json(try await Self.call(gateway, "POST", "/api/brain/services", body: "{not json"))["field"] as? String == "body")
            #expect(Self.json(try await Self.call(gateway, "POST", "/api/brain/services", body: #"{"name": "api", "url": "http://a"}"#))["field"] as? String == "name")

            // List and get.
            let list = Self.json(try await Self.call(gateway, "GET", "/api/brain/services"))["services"] as? [[String: Any]]
            #expect(list?.map { $0["name"] as? String } == ["crm"])
            let got = try await Self.call(gateway, "GET", "/api/brain/services/crm")
            #expect(got.status == 200 && got.header("ETag") == "\"1\"")
            #expect(try await Self.call(gateway, "GET", "/api/brain/services/nope").status == 404)

            // Update with If-Match: the current tag wins, a stale one gets 412 with the current tag.
            let changed = document.replacingOccurrences(of: "/api/v1/crm", with: "/api/v2/crm")
            let updated = try await Self.call(gateway, "PUT", "/api/brain/services/crm", body: changed, headers: "If-Match: \"1\"\r\n")
            #expect(updated.status == 200 && updated.header("ETag") == "\"2\"")
            #expect(Self.json(updated)["base_path"] as? String == "/api/v2/crm")
            let stale = try await Self.call(gateway, "PUT", "/api/brain/services/crm", body: document, headers: "If-Match: \"1\"\r\n")
            #expect(stale.status == 412 && stale.header("ETag") == "\"2\"")
            #expect(try await Self.call(gateway, "PUT", "/api/brain/services/other", body: document).status == 422)
            #expect(try await gateway.send("GET /crm/deals/8 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").text == "{\"path\":\"/api/v2/crm/deals/8\"}")

            // Routes.
            let route = try await Self.call(gateway, "POST", "/api/brain/services/crm/routes", body: #"{"path": "/contacts", "methods": ["POST"], "roles": ["sales"]}"#)
            #expect(route.status == 201 && route.header("ETag") == "\"3\"")
            #expect((Self.json(route)["routes"] as? [Any])?.count == 2)
            let overlap = try await Self.call(gateway, "POST", "/api/brain/services/crm/routes", body: #"{"path": "/contacts", "methods": ["POST"]}"#)
            #expect(overlap.status == 409)
            #expect(try await Self.call(gateway, "POST", "/api/brain/services/nope/routes", body: #"{"path": "/x"}"#).status == 404)
            let forbidden = try await gateway.send("POST /crm/contacts HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            #expect(forbidden.status == 403)

            // Tenant scope: the same name in a tenant is another service.
            let tenantDoc = document.replacingOccurrences(of: "\"name\": \"crm\"", with: "\"name\": \"crm\", \"tenant_id\": \"\(TestTokens.tenantA)\"")
            #expect(try await Self.call(gateway, "POST", "/api/brain/services", body: tenantDoc).status == 201)
            #expect(try await Self.call(gateway, "GET", "/api/brain/services/crm", headers: "X-Tenant-ID: \(TestTokens.tenantA)\r\n").header("ETag") == "\"1\"")
            // A document naming another tenant than the one addressed is refused.
            #expect(try await Self.call(gateway, "POST", "/api/brain/services", body: tenantDoc, headers: "X-Tenant-ID: \(TestTokens.tenantB)\r\n").status == 422)

            // Delete: stale tag 412, then 204, then 404; the service stops proxying.
            #expect(try await Self.call(gateway, "DELETE", "/api/brain/services/crm", headers: "If-Match: \"1\"\r\n").status == 412)
            #expect(try await Self.call(gateway, "DELETE", "/api/brain/services/crm", headers: "If-Match: \"3\"\r\n").status == 204)
            #expect(try await Self.call(gateway, "DELETE", "/api/brain/services/crm").status == 404)
            #expect(try await gateway.send("GET /crm/deals/9 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", token: TestTokens.make(tenant: TestTokens.tenantB)).status == 404)

            // Events: the whole history, filterable.
            #expect(await gateway.gateway.journal.flushed())
            let events = Self.json(try await Self.call(gateway, "GET", "/api/brain/events"))["events"] as? [[String: Any]] ?? []
            let types = events.map { $0["type"] as? String ?? "" }
            #expect(types == ["ServiceRegistered", "RouteRegistered", "ServiceUpdated", "RouteRegistered", "ServiceRegistered", "RouteRegistered", "ServiceRemoved"])
            #expect((events.first?["data"] as? [String: Any])?["service"] as? String == "crm")
            #expect(events.first?["occurred_at"] is String && events.first?["id"] is Int)
            let removed = Self.json(try await Self.call(gateway, "GET", "/api/brain/events?type=ServiceRemoved"))["events"] as? [[String: Any]]
            #expect(removed?.count == 1)
            let tenantEvents = Self.json(try await Self.call(gateway, "GET", "/api/brain/events?tenant_id=\(TestTokens.tenantA)"))["events"] as? [[String: Any]]
            #expect(tenantEvents?.count == 2)
            let since = Self.json(try await Self.call(gateway, "GET", "/api/brain/events?since=5&limit=1"))["events"] as? [[String: Any]]
            #expect(since?.map { $0["id"] as? Int } == [6])
            #expect(Self.json(try await Self.call(gateway, "GET", "/api/brain/events?limit=0"))["field"] as? String == "limit")

            // Health and metrics queries.
            let health = Self.json(try await Self.call(gateway, "GET", "/api/brain/health"))["services"] as? [[String: Any]]
            #expect((health?.first?["instances"] as? [[String: Any]])?.first?["breaker"] as? String == "closed")
            let metrics = Self.json(try await Self.call(gateway, "GET", "/api/brain/metrics"))
            #expect(metrics["total_requests"] as? Int == 2)
            #expect((metrics["requests_per_service"] as? [String: Int])?["crm"] == 2)
            #expect((metrics["tenant_distribution"] as? [String: Int])?[TestTokens.tenantA] == 2)
            for key in ["ai_agent_executions", "autonomous_decisions", "average_response_time", "circuit_breaker_activations", "cached_responses"] {
                #expect(metrics[key] != nil, "\(key)")
            }
        }
    }

    @Test func theEventStreamPushesNewEvents() async throws {
        try await withGateway(services: { _ in "services: []" }) { gateway, backend in
            let stream = try await KeepAliveConnection(port: gateway.port)
            // A browser cannot set headers: the token may come as ?access_token= here.
            try await stream.write("GET /api/brain/events/stream?access_token=\(TestTokens.admin) HTTP/1.1\r\nHost: x\r\n\r\n")
            let head = try await stream.readUntil("brain-gateway events")
            #expect(head.contains("200 OK") && head.lowercased().contains("content-type: text/event-stream"))
            let document = Self.crm.replacingOccurrences(of: "http://127.0.0.1:9", with: backend.url)
            #expect(try await Self.call(gateway, "POST", "/api/brain/services", body: document).status == 201)
            let pushed = try await stream.readUntil("event: RouteRegistered")
            #expect(pushed.contains("event: ServiceRegistered"))
            #expect(pushed.contains("\"service\":\"crm\""))
            await stream.close()
            // The query-string token is accepted nowhere else.
            let elsewhere = try await RawHTTP.send(port: gateway.port, "GET /api/brain/events?access_token=\(TestTokens.admin) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(elsewhere.status == 401)
        }
    }

    @Test func theEventStreamEndsWhenItsTokenExpires() async throws {
        try await withGateway(services: { _ in "services: []" }) { gateway, _ in
            let shortLived = TestTokens.make(sub: "admin-1", roles: ["platform-admin"], expiresIn: 2)
            let stream = try await KeepAliveConnection(port: gateway.port)
            let opened = ContinuousClock.now
            try await stream.write("GET /api/brain/events/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(shortLived)\r\n\r\n")
            _ = try await stream.readUntil("brain-gateway events")
            let end = try await stream.readUntil("event: token_expired", timeout: .seconds(10))
            #expect(ContinuousClock.now - opened < .seconds(6))
            // The chunked body ends right after it.
            let rest = end.contains("\r\n0\r\n\r\n") ? end : try await stream.readUntil("0\r\n\r\n", timeout: .seconds(2))
            #expect(rest.contains("0\r\n\r\n"))
            await stream.close()
        }
    }
}
