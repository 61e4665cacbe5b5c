import BrainApplication
import BrainDomain
import BrainInfrastructure
import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing

/// Integrations end to end with the embedded secret store: activation (fields, live verify,
/// fingerprint, events), the outbound proxy (credentials applied, limits, retries, OAuth
/// refreshes) against a fake provider on loopback, and no credential value anywhere else.
@Suite struct IntegrationProxyTests {
    static let tenantAdmin = TestTokens.make(sub: "ta-1", roles: ["tenant-admin"])
    static let caller = TestTokens.make(sub: "svc-1", roles: ["integrations"])
    static let goodKey = "sk_live_GOODKEY_0123456789"

    static func yaml(_ provider: ScriptedBackend, extra: String = "") -> String {
        """
        services: []
        integrations:
          - name: acme
            category: payments
            auth: bearer
            credentials: [api_key]
            base_url: \(provider.url)/v1
            verify: {method: GET, path: /me}
          - name: acme-oauth
            category: crm
            auth: {type: oauth2, token_url: \(provider.url)/oauth/token}
            credentials: [client_id, client_secret, refresh_token]
            base_url: \(provider.url)/crm
        \(extra)
        """
    }

    /// A provider that wants `Bearer <goodKey>` (or the OAuth token it issued last).
    static func provider(tokenReply: @escaping @Sendable (Int) -> ScriptedBackend.Reply = { n in .json(#"{"access_token":"at-\#(n)","expires_in":3600}"#) })
        async throws -> (ScriptedBackend, NIOLockedValueBox<Int>)
    {
        let refreshes = NIOLockedValueBox(0)
        let backend = try await ScriptedBackend { request in
            if request.uri.hasPrefix("/oauth/token") {
                let n = refreshes.withLockedValue { $0 += 1; return $0 }
                return tokenReply(n)
            }
            let authorization = request.headers.first(name: "Authorization") ?? ""
            let issued = refreshes.withLockedValue { $0 }
            guard authorization == "Bearer \(goodKey)" || (issued > 0 && authorization == "Bearer at-\(issued)") else {
                return .json(#"{"error":"unauthorised"}"#, status: 401)
            }
            return .json(#"{"ok":true,"path":"\#(request.uri)"}"#)
        }
        return (backend, refreshes)
    }

    static func call(_ gateway: GatewayHarness, _ method: String, _ path: String, body: String? = nil, headers: String = "", token: String = tenantAdmin)
        async throws -> RawResponse
    {
        try await AdminAPITests.call(gateway, method, path, body: body, headers: headers, token: token)
    }

    static func json(_ r: RawResponse) -> [String: Any] { AdminAPITests.json(r) }

    @Test func activationIsCheckedVerifiedAndNeverShowsValues() async throws {
        let (provider, _) = try await Self.provider()
        let recorder = LogRecorder()
        let gateway = try await GatewayHarness.start(yaml: Self.yaml(provider), logger: recorder.logger(level: .trace), sealer: .generated())
        try await withTeardown {
            // The catalogue: shipped entries and the YAML's, all inactive.
            let list = Self.json(try await Self.call(gateway, "GET", "/api/brain/integrations"))["integrations"] as? [[String: Any]] ?? []
            #expect(list.count >= 42)
            let acme = list.first { $0["name"] as? String == "acme" }
            #expect(acme?["status"] as? String == "inactive" && acme?["credentials"] as? [String] == ["api_key"])
            #expect(list.first { $0["name"] as? String == "stripe" }?["tier"] is String)
            #expect(try await Self.call(gateway, "GET", "/api/brain/integrations", token: TestTokens.user).status == 403)

            // Checks before any call: unknown integration, missing and unknown fields.
            #expect(try await Self.call(gateway, "PUT", "/api/brain/integrations/nope", body: #"{"credentials":{}}"#).status == 404)
            let missing = try await Self.call(gateway, "PUT", "/api/brain/integrations/acme", body: #"{"credentials":{}}"#)
            #expect(missing.status == 422 && Self.json(missing)["field"] as? String == "credentials.api_key")
            let unknown = try await Self.call(gateway, "PUT", "/api/brain/integrations/acme", body: #"{"credentials":{"api_key":"x","pin":"1"}}"#)
            #expect(unknown.status == 422 && Self.json(unknown)["field"] as? String == "credentials.pin")
            #expect(provider.requests.isEmpty)

            // The provider refuses: 422, nothing stored.
            let refused = try await Self.call(gateway, "PUT", "/api/brain/integrations/acme", body: #"{"credentials":{"api_key":"sk_wrong_key_987"}}"#)
            #expect(refused.status == 422 && Self.json(refused)["error"] as? String == "invalid_credentials")
            #expect(Self.json(try await Self.call(gateway, "GET", "/api/brain/integrations/acme"))["status"] as? String == "inactive")

            // Accepted: stored, shown as field names and a fingerprint.
            let activated = try await Self.call(gateway, "PUT", "/api/brain/integrations/acme", body: #"{"credentials":{"api_key":"\#(Self.goodKey)"}}"#)
            #expect(activated.status == 200)
            let body = Self.json(activated)
            #expect(body["status"] as? String == "active" && (body["credentials"] as? [String: String]) == ["api_key": "set"])
            #expect((body["fingerprint"] as? String)?.hasPrefix("sha256:") == true)
            #expect(provider.requests.last?.uri == "/v1/me")
            let detail = Self.json(try await Self.call(gateway, "GET", "/api/brain/integrations/acme"))
            #expect(detail["status"] as? String == "active" && detail["fingerprint"] as? String == body["fingerprint"] as? String)

            // base_url is the platform's to set.
            let moved = try await Self.call(
                gateway, "PUT", "/api/brain/integrations/acme", body: #"{"credentials":{"api_key":"k"},"base_url":"http://127.0.0.1:1"}"#)
            #expect(moved.status == 403)

            // The proxy: the tenant's key goes out; the caller's token does not.
            let proxied = try await Self.call(
                gateway, "GET", "/api/brain/integrations/acme/proxy/items/7?expand=true", headers: "Cookie: session=abc\r\nX-Custom: 1\r\n", token: Self.caller)
            #expect(proxied.status == 200)
            #expect(Self.json(proxied)["path"] as? String == "/v1/items/7?expand=true")
            let sent = provider.requests.last
            #expect(sent?.headers.first(name: "Authorization") == "Bearer \(Self.goodKey)")
            #expect(sent?.headers.first(name: "Cookie") == nil && sent?.headers.first(name: "X-Custom") == "1")
            #expect(proxied.header("RateLimit-Limit") == "60" && proxied.header("RateLimit-Remaining") == "59")
            #expect(proxied.header("Content-Length") == String(proxied.body.count) && proxied.header("Transfer-Encoding") == nil)
            #expect(try await Self.call(gateway, "GET", "/api/brain/integrations/acme/proxy/items", token: TestTokens.user).status == 403)
            #expect(try await Self.call(gateway, "GET", "/api/brain/integrations/acme/proxy/../admin", token: Self.caller).status == 400)
            #expect(try await Self.call(gateway, "GET", "/api/brain/integrations/acme/proxy/%2e%2e/admin", token: Self.caller).status == 400)
            // Another tenant has no connection.
            let other = try await Self.call(
                gateway, "GET", "/api/brain/integrations/acme/proxy/items", headers: "X-Tenant-ID: \(TestTokens.tenantB)\r\n", token: TestTokens.admin)
            #expect(other.status == 409 && Self.json(other)["error"] as? String == "integration_inactive")

            // Deactivation erases.
            #expect(try await Self.call(gateway, "DELETE", "/api/brain/integrations/acme").status == 204)
            let gone = try await Self.call(gateway, "GET", "/api/brain/integrations/acme/proxy/items", token: Self.caller)
            #expect(gone.status == 409)

            let events = Self.json(try await Self.call(gateway, "GET", "/api/brain/events", token: TestTokens.admin))["events"] as? [[String: Any]] ?? []
            let types = events.map { $0["type"] as? String ?? "" }
            #expect(types.contains("IntegrationActivated") && types.contains("IntegrationDeactivated"))
            let activatedEvent = events.first { $0["type"] as? String == "IntegrationActivated" }
            #expect((activatedEvent?["data"] as? [String: Any])?["integration"] as? String == "acme")

            // The value is nowhere but on the wire to the provider.
            let metrics = try await RawHTTP.send(port: gateway.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(metrics.text.contains("brain_gateway_integration_requests_total{integration=\"acme\",status=\"200\"}"))
            let logged = recorder.all.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n")
            for text in [logged, metrics.text, String(describing: events), activated.text, detail.description] {
                #expect(!text.contains(Self.goodKey) && !text.contains("sk_wrong_key_987"))
            }
        } teardown: {
            await gateway.stop()
            await provider.shutdown()
        }
    }

    @Test func withoutASecretStoreActivationAnswers503NamingBoth() async throws {
        let (provider, _) = try await Self.provider()
        let gateway = try await GatewayHarness.start(yaml: Self.yaml(provider))
        try await withTeardown {
            let response = try await Self.call(gateway, "PUT", "/api/brain/integrations/acme", body: #"{"credentials":{"api_key":"k"}}"#)
            #expect(response.status == 503 && Self.json(response)["error"] as? String == "secrets_unavailable")
            let detail = Self.json(response)["detail"] as? String ?? ""
            #expect(detail.contains("VAULT_ADDR") && detail.contains("BRAIN_GATEWAY_SECRETS_KEY"))
        } teardown: {
            await gateway.stop()
            await provider.shutdown()
        }
    }

    @Test func unreachableProviderOnVerifyIs502AndNothingIsStored() async throws {
        let (provider, _) = try await Self.provider()
        let refusing = RefusingPort()
        let gateway = try await GatewayHarness.start(yaml: Self.yaml(provider), sealer: .generated())
        try await withTeardown {
            let response = try await Self.call(
                gateway, "PUT", "/api/brain/integrations/acme", body: #"{"credentials":{"api_key":"k"},"base_url":"http://127.0.0.1:\#(refusing.port)/v1"}"#,
                token: TestTokens.admin)
            #expect(response.status == 502)
            #expect(Self.json(try await Self.call(gateway, "GET", "/api/brain/integrations/acme"))["status"] as? String == "inactive")
        } teardown: {
            await gateway.stop()
            await provider.shutdown()
        }
    }

    @Test func limitsRetriesAndIdempotency() async throws {
        let answers = NIOLockedValueBox<[Int]>([])
        let provider = try await ScriptedBackend { request in
            if request.uri.hasSuffix("/me") { return .json("{}") }
            let status = answers.withLockedValue { $0.isEmpty ? 200 : $0.removeFirst() }
            return .json(#"{"status":\#(status)}"#, status: status)
        }
        let gateway = try await GatewayHarness.start(yaml: Self.yaml(provider), sealer: .generated())
        try await withTeardown {
            #expect(try await Self.call(gateway, "PUT", "/api/brain/integrations/acme", body: #"{"credentials":{"api_key":"k1"}}"#).status == 200)
            // 503 twice, then 200: one 200 for the client after three attempts.
            answers.withLockedValue { $0 = [503, 503] }
            let before = provider.requests.count
            let retried = try await Self.call(gateway, "GET", "/api/brain/integrations/acme/proxy/things", token: Self.caller)
            #expect(retried.status == 200 && provider.requests.count - before == 3)
            // A POST without Idempotency-Key is sent once; with one it is retried.
            answers.withLockedValue { $0 = [503] }
            let once = try await Self.call(gateway, "POST", "/api/brain/integrations/acme/proxy/things", body: "{}", token: Self.caller)
            #expect(once.status == 503 && provider.requests.count - before == 4)
            answers.withLockedValue { $0 = [502] }
            let keyed = try await Self.call(
                gateway, "POST", "/api/brain/integrations/acme/proxy/things", body: "{}", headers: "Idempotency-Key: k-1\r\n", token: Self.caller)
            #expect(keyed.status == 200 && provider.requests.count - before == 6)
            #expect(provider.requests.last?.headers.first(name: "Idempotency-Key") == "k-1" && provider.requests.last?.body == "{}")
            // The default limit, 60 a minute, counts client calls, not attempts: 3 so far, 57
            // more allowed, then the 61st is refused.
            for _ in 0..<57 {
                #expect(try await Self.call(gateway, "GET", "/api/brain/integrations/acme/proxy/things", token: Self.caller).status == 200)
            }
            let limited = try await Self.call(gateway, "GET", "/api/brain/integrations/acme/proxy/things", token: Self.caller)
            #expect(limited.status == 429 && limited.header("Retry-After") != nil && limited.header("RateLimit-Remaining") == "0")
            #expect(Self.json(limited)["error"] as? String == "rate_limited")
        } teardown: {
            await gateway.stop()
            await provider.shutdown()
        }
    }

    @Test func twentyCallsWithAnExpiredTokenMakeOneRefresh() async throws {
        // The first refresh (at activation) issues a token that lapses within the 30 s margin
        // a second later; the next is good for an hour.
        let (provider, refreshes) = try await Self.provider { n in
            .json(#"{"access_token":"at-\#(n)","expires_in":\#(n == 1 ? 31 : 3600),"refresh_token":"rt-\#(n)"}"#, delay: n == 1 ? 0 : 200)
        }
        let gateway = try await GatewayHarness.start(yaml: Self.yaml(provider), sealer: .generated())
        try await withTeardown {
            let activated = try await Self.call(
                gateway, "PUT", "/api/brain/integrations/acme-oauth", body: #"{"credentials":{"client_id":"cid","client_secret":"cs-123","refresh_token":"rt-0"}}"#)
            #expect(activated.status == 200 && refreshes.withLockedValue { $0 } == 1)
            try await Task.sleep(for: .milliseconds(1500))
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await Self.call(gateway, "GET", "/api/brain/integrations/acme-oauth/proxy/contacts", token: Self.caller).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 20))
            #expect(refreshes.withLockedValue { $0 } == 2)
            // The refresh sent the rotated refresh token, and its form carried the client's credentials.
            let token = provider.requests.filter { $0.uri.hasPrefix("/oauth/token") }
            #expect(token.last?.body.contains("refresh_token=rt-1") == true && token.last?.body.contains("grant_type=refresh_token") == true)
        } teardown: {
            await gateway.stop()
            await provider.shutdown()
        }
    }

    @Test func aRefusedRefreshNeedsReauthentication() async throws {
        let (provider, refreshes) = try await Self.provider { n in
            n == 1 ? .json(#"{"access_token":"at-1","expires_in":31}"#) : .json(#"{"error":"invalid_grant"}"#, status: 400)
        }
        let gateway = try await GatewayHarness.start(yaml: Self.yaml(provider), sealer: .generated())
        try await withTeardown {
            #expect(try await Self.call(
                gateway, "PUT", "/api/brain/integrations/acme-oauth", body: #"{"credentials":{"client_id":"c","client_secret":"s","refresh_token":"r"}}"#
            ).status == 200)
            try await Task.sleep(for: .milliseconds(1500))
            let refused = try await Self.call(gateway, "GET", "/api/brain/integrations/acme-oauth/proxy/contacts", token: Self.caller)
            #expect(refused.status == 401 && Self.json(refused)["error"] as? String == "integration_needs_reauth")
            #expect(Self.json(try await Self.call(gateway, "GET", "/api/brain/integrations/acme-oauth"))["status"] as? String == "needs_reauth")
            // Later calls fail at once, without asking the provider again.
            #expect(try await Self.call(gateway, "GET", "/api/brain/integrations/acme-oauth/proxy/contacts", token: Self.caller).status == 401)
            #expect(refreshes.withLockedValue { $0 } == 2)
            let events = Self.json(try await Self.call(gateway, "GET", "/api/brain/events?type=IntegrationNeedsReauth", token: TestTokens.admin))["events"] as? [[String: Any]]
            #expect(events?.count == 1)
        } teardown: {
            await gateway.stop()
            await provider.shutdown()
        }
    }

    @Test func credentialsSurviveARestartAndAnotherKeyCannotReadThem() async throws {
        let (provider, _) = try await Self.provider()
        let path = NSTemporaryDirectory() + "brain-gateway-integrations-\(UUID().uuidString).sqlite"
        let sealer = SecretSealer.generated()
        let first = try await GatewayHarness.start(yaml: Self.yaml(provider), sealer: sealer) { $0.storage = .sqlite(path: path) }
        #expect(try await Self.call(first, "PUT", "/api/brain/integrations/acme", body: #"{"credentials":{"api_key":"\#(Self.goodKey)"}}"#).status == 200)
        await first.stop()
        let second = try await GatewayHarness.start(yaml: Self.yaml(provider), sealer: sealer) { $0.storage = .sqlite(path: path) }
        let kept = try await Self.call(second, "GET", "/api/brain/integrations/acme/proxy/items", token: Self.caller)
        #expect(kept.status == 200)
        await second.stop()
        let third = try await GatewayHarness.start(yaml: Self.yaml(provider), sealer: .generated()) { $0.storage = .sqlite(path: path) }
        let unreadable = try await Self.call(third, "GET", "/api/brain/integrations/acme/proxy/items", token: Self.caller)
        #expect(unreadable.status == 503 && Self.json(unreadable)["error"] as? String == "secrets_unavailable")
        await third.stop()
        await provider.shutdown()
    }

    @Test func workflowIntegrationStepsGoThroughTheProxyWithTheTenantsCredentials() async throws {
        let (provider, _) = try await Self.provider()
        let workflow = """
            workflows:
              - name: fetch-item
                expose: {method: POST, path: /api/brain/fetch-item}
                steps:
                  - id: item
                    integration: {name: acme, method: POST, path: "/items/{{ input.id }}", body: "{{ input }}"}
            """
        let gateway = try await GatewayHarness.start(yaml: Self.yaml(provider, extra: workflow), sealer: .generated())
        try await withTeardown {
            // Not activated yet: the step fails, the run is 502 workflow_failed.
            let before = try await Self.call(gateway, "POST", "/api/brain/fetch-item", body: #"{"id":"7"}"#, token: TestTokens.user)
            #expect(before.status == 502)
            #expect(try await Self.call(gateway, "PUT", "/api/brain/integrations/acme", body: #"{"credentials":{"api_key":"\#(Self.goodKey)"}}"#).status == 200)
            let run = try await Self.call(gateway, "POST", "/api/brain/fetch-item", body: #"{"id":"7"}"#, token: TestTokens.user)
            #expect(run.status == 200)
            let sent = provider.requests.last
            #expect(sent?.uri == "/v1/items/7" && sent?.headers.first(name: "Authorization") == "Bearer \(Self.goodKey)")
            #expect(sent?.headers.first(name: "Idempotency-Key")?.hasSuffix(":item") == true)
            #expect(sent?.body.contains(#""id":"7""#) == true)
            #expect(!run.text.contains(Self.goodKey))
            // A workflow naming an integration the catalogue lacks is refused when defined.
            let refused = try await Self.call(
                gateway, "POST", "/api/brain/workflows",
                body: #"{"name":"bad","steps":[{"id":"x","integration":{"name":"nope","path":"/"}}]}"#, token: TestTokens.admin)
            #expect(refused.status == 422 && Self.json(refused)["field"] as? String == "steps[0].integration.name")
        } teardown: {
            await gateway.stop()
            await provider.shutdown()
        }
    }

    @Test func graphQLListsActivatesAndDeactivatesWithTheSameChecks() async throws {
        let (provider, _) = try await Self.provider()
        let gateway = try await GatewayHarness.start(yaml: Self.yaml(provider), sealer: .generated())
        try await withTeardown {
            let listed = try await GraphQLTests.graphQL(gateway, "{ integrations { name status credentials tier } }", token: Self.tenantAdmin)
            let list = GraphQLTests.data(listed.body)["integrations"] as? [[String: Any]] ?? []
            #expect(list.first { $0["name"] as? String == "acme" }?["status"] as? String == "inactive")
            let userTry = try await GraphQLTests.graphQL(gateway, "{ integrations { name } }", token: TestTokens.user)
            #expect(GraphQLTests.code(userTry.body) == "forbidden")

            let mutation = "mutation($c: String!) { activateIntegration(name: \"acme\", credentials: $c) { name status credentials fingerprint } }"
            let refused = try await GraphQLTests.graphQL(gateway, mutation, variables: ["c": #"{"api_key":"nope-nope"}"#], token: Self.tenantAdmin)
            #expect(GraphQLTests.code(refused.body) == "invalid_credentials")
            let missing = try await GraphQLTests.graphQL(gateway, mutation, variables: ["c": "{}"], token: Self.tenantAdmin)
            #expect(GraphQLTests.code(missing.body) == "invalid_request")
            let activated = try await GraphQLTests.graphQL(gateway, mutation, variables: ["c": #"{"api_key":"\#(Self.goodKey)"}"#], token: Self.tenantAdmin)
            let view = GraphQLTests.data(activated.body)["activateIntegration"] as? [String: Any]
            #expect(view?["status"] as? String == "active" && view?["credentials"] as? [String] == ["api_key"])
            #expect(!String(describing: activated.body).contains(Self.goodKey))
            #expect(try await Self.call(gateway, "GET", "/api/brain/integrations/acme/proxy/x", token: Self.caller).status == 200)

            let gone = try await GraphQLTests.graphQL(gateway, "mutation { deactivateIntegration(name: \"acme\") }", token: Self.tenantAdmin)
            #expect(GraphQLTests.data(gone.body)["deactivateIntegration"] as? Bool == true)
            #expect(try await Self.call(gateway, "GET", "/api/brain/integrations/acme/proxy/x", token: Self.caller).status == 409)
        } teardown: {
            await gateway.stop()
            await provider.shutdown()
        }
    }

    @Test func aTracedCallRecordsTheIntegrationButNeverTheCredential() async throws {
        let collector = try await OTLPCollector()
        let provider = try await ScriptedBackend { request in
            request.uri.contains("key=\(Self.goodKey)") ? .json(#"{"ok":true}"#) : .json("{}", status: 401)
        }
        let yaml = """
            services: []
            integrations:
              - {name: acme-q, category: analytics, auth: "query:key", credentials: [api_key], base_url: "\(provider.url)/api"}
            """
        let gateway = try await GatewayHarness.start(yaml: yaml, sealer: .generated()) { $0.tracing = OTLPTracingTests.exporting(to: collector) }
        try await withTeardown {
            #expect(try await Self.call(gateway, "PUT", "/api/brain/integrations/acme-q", body: #"{"credentials":{"api_key":"\#(Self.goodKey)"}}"#).status == 200)
            let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            let response = try await Self.call(
                gateway, "GET", "/api/brain/integrations/acme-q/proxy/report?day=1", headers: "traceparent: \(incoming)\r\n", token: Self.caller)
            #expect(response.status == 200)
            // The key went out as the query parameter, after the client's own.
            #expect(provider.requests.last?.uri == "/api/report?day=1&key=\(Self.goodKey)")
            #expect(provider.requests.last?.headers.first(name: "traceparent") == nil)
            let spans = await collector.waitFor { spans in spans.contains { $0.name == "integration acme-q" } }
            let span = try #require(spans.first { $0.name == "integration acme-q" })
            #expect(span.kind == 3 && span.traceID == "4bf92f3577b34da6a3ce929d0e0e4736" && span.parentSpanID == "00f067aa0ba902b7")
            #expect(span.attributes["url.path"] == "/report" && span.attributes["http.response.status_code"] == "200")
            for recorded in spans {
                #expect(!recorded.attributes.values.contains { $0.contains(Self.goodKey) } && !recorded.name.contains(Self.goodKey))
            }
        } teardown: {
            await gateway.stop()
            await provider.shutdown()
            await collector.shutdown()
        }
    }

    @Test func anUnreachableProviderIs502ThenItsBreakerOpens() async throws {
        let refusing = RefusingPort()
        let yaml = """
            services: []
            integrations:
              - {name: gone, category: crm, auth: bearer, credentials: [token], base_url: "http://127.0.0.1:\(refusing.port)/api"}
            """
        let gateway = try await GatewayHarness.start(yaml: yaml, sealer: .generated())
        try await withTeardown {
            // No verify request: stored without calling the provider.
            #expect(try await Self.call(gateway, "PUT", "/api/brain/integrations/gone", body: #"{"credentials":{"token":"t-1"}}"#).status == 200)
            // Each call: the first attempt and 3 retries, all refused → 502.
            let first = try await Self.call(gateway, "GET", "/api/brain/integrations/gone/proxy/x", token: Self.caller)
            #expect(first.status == 502 && Self.json(first)["error"] as? String == "bad_gateway")
            // The next call's first failure is the fifth in a row: the breaker opens, and calls
            // are refused without trying → 503 with Retry-After.
            _ = try await Self.call(gateway, "GET", "/api/brain/integrations/gone/proxy/x", token: Self.caller)
            let open = try await Self.call(gateway, "GET", "/api/brain/integrations/gone/proxy/x", token: Self.caller)
            #expect(open.status == 503 && Self.json(open)["error"] as? String == "service_unavailable")
            #expect(Int(open.header("Retry-After") ?? "") ?? 0 >= 1)
            let metrics = try await RawHTTP.send(port: gateway.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(metrics.text.contains("brain_gateway_integration_requests_total{integration=\"gone\",status=\"503\"}"))
        } teardown: {
            await gateway.stop()
        }
    }
}
