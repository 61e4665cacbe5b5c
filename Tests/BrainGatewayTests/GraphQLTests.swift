import Foundation
import Testing

/// `POST /graphql`: queries over the same state as REST, mutations with REST's validation and
/// the platform-admin requirement, tenant confinement for ordinary callers.
@Suite struct GraphQLTests {
    static func graphQL(
        _ gateway: GatewayHarness, _ query: String, variables: [String: Any]? = nil, token: String = TestTokens.admin, headers: String = ""
    ) async throws -> (status: Int, body: [String: Any]) {
        var request: [String: Any] = ["query": query]
        if let variables { request["variables"] = variables }
        let body = String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self)
        let r = try await gateway.send(
            "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\(headers)Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)",
            token: token)
        return (r.status, (try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]) ?? [:])
    }

    static func errors(_ body: [String: Any]) -> [[String: Any]] { body["errors"] as? [[String: Any]] ?? [] }
    static func data(_ body: [String: Any]) -> [String: Any] { body["data"] as? [String: Any] ?? [:] }

    static func yaml(_ backend: TestBackend) -> String {
        """
        services:
          - name: svc
            url: \(backend.url)
            base_path: /base
            routes:
              - {path: "/items/{id}", methods: [GET], roles: [reader]}
          - name: mine
            url: \(backend.url)
            tenant_id: \(TestTokens.tenantA)
          - name: theirs
            url: \(backend.url)
            tenant_id: \(TestTokens.tenantB)
        """
    }

    @Test func queriesShowServicesHealthEventsAndMetrics() async throws {
        try await withGateway(services: Self.yaml) { gateway, backend in
            let reader = TestTokens.make(roles: ["reader"])
            for _ in 0..<3 { #expect(try await gateway.send("GET /svc/items/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", token: reader).status == 200) }

            let listed = try await Self.graphQL(gateway, "{ services { name instances base_path status tenant_id routes { path methods roles } } }")
            #expect(listed.status == 200 && Self.errors(listed.body).isEmpty)
            let services = Self.data(listed.body)["services"] as? [[String: Any]] ?? []
            #expect(Set(services.compactMap { $0["name"] as? String }) == ["svc", "mine", "theirs"])
            let svc = try #require(services.first { $0["name"] as? String == "svc" })
            #expect(svc["instances"] as? [String] == [backend.url])
            #expect(svc["base_path"] as? String == "/base")
            #expect(svc["status"] as? String == "healthy")
            #expect(svc["tenant_id"] is NSNull)
            let routes = svc["routes"] as? [[String: Any]] ?? []
            #expect(routes.count == 1 && routes[0]["path"] as? String == "/items/{id}" && routes[0]["methods"] as? [String] == ["GET"] && routes[0]["roles"] as? [String] == ["reader"])

            let one = try await Self.graphQL(gateway, #"{ service(name: "svc") { name base_path } missing: service(name: "nope") { name } }"#)
            #expect((Self.data(one.body)["service"] as? [String: Any])?["base_path"] as? String == "/base")
            #expect(Self.data(one.body)["missing"] is NSNull)

            let health = try await Self.graphQL(gateway, "{ health { status services { name status response_time_ms } } }")
            let healthData = Self.data(health.body)["health"] as? [String: Any]
            #expect(healthData?["status"] as? String == "healthy")
            #expect((healthData?["services"] as? [[String: Any]])?.count == 3)

            let metrics = try await Self.graphQL(gateway, "{ metrics { total_requests requests_per_service { key count } tenant_distribution { key count } average_response_time cached_responses circuit_breaker_activations ai_agent_executions autonomous_decisions } }")
            let m = Self.data(metrics.body)["metrics"] as? [String: Any]
            #expect(m?["total_requests"] as? Int == 3)
            #expect((m?["requests_per_service"] as? [[String: Any]])?.first { $0["key"] as? String == "svc" }?["count"] as? Int == 3)
            #expect((m?["tenant_distribution"] as? [[String: Any]])?.first?["key"] as? String == TestTokens.tenantA)

            let events = try await Self.graphQL(gateway, #"{ events(type: "ServiceRegistered", limit: 2) { id type occurred_at service data } }"#)
            let list = Self.data(events.body)["events"] as? [[String: Any]] ?? []
            #expect(list.count == 2)
            #expect(list.allSatisfy { $0["type"] as? String == "ServiceRegistered" && ($0["service"] as? String)?.isEmpty == false })
        }
    }

    @Test func mutationsRegisterServicesAndRoutesWithRESTsValidation() async throws {
        try await withGateway(services: Self.yaml) { gateway, backend in
            let register = "mutation($in: ServiceInput!) { registerService(input: $in) { name status routes { path methods } } }"
            let input: [String: Any] = [
                "name": "gql", "instances": [backend.url], "base_path": "/base",
                "rate_limit": ["requests": 50, "window_seconds": 60], "routes": [["path": "/items/{id}", "methods": ["GET"]]],
            ]
            let created = try await Self.graphQL(gateway, register, variables: ["in": input])
            #expect(Self.errors(created.body).isEmpty, "\(created.body)")
            #expect((Self.data(created.body)["registerService"] as? [String: Any])?["name"] as? String == "gql")
            // It is live at once, and REST sees the same service.
            #expect(try await gateway.send("GET /gql/items/7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status == 200)
            let rest = try await AdminAPITests.call(gateway, "GET", "/api/brain/services/gql")
            #expect(rest.status == 200 && (AdminAPITests.json(rest)["rate_limit"] as? [String: Any])?["requests"] as? Int == 50)

            let route = try await Self.graphQL(gateway, #"mutation { registerRoute(service: "gql", input: {path: "/orders", methods: ["POST"]}) { routes { path } } }"#)
            #expect(Self.errors(route.body).isEmpty, "\(route.body)")
            let paths = ((Self.data(route.body)["registerRoute"] as? [String: Any])?["routes"] as? [[String: Any]])?.compactMap { $0["path"] as? String }
            #expect(paths == ["/items/{id}", "/orders"])

            // Invalid input names the field, as REST's 422 does.
            var bad = input
            bad["name"] = "bad-one"
            bad["instances"] = ["ftp://nowhere"]
            let invalid = try await Self.graphQL(gateway, register, variables: ["in": bad])
            let error = try #require(Self.errors(invalid.body).first)
            let extensions = error["extensions"] as? [String: Any]
            #expect(extensions?["code"] as? String == "invalid_request")
            #expect(extensions?["field"] as? String == "instances[0]")
            #expect((error["message"] as? String)?.contains("instances[0]") == true)
            let badRoute = try await Self.graphQL(gateway, #"mutation { registerRoute(service: "gql", input: {path: "no-slash"}) { name } }"#)
            #expect(((Self.errors(badRoute.body).first?["extensions"] as? [String: Any])?["field"] as? String)?.hasPrefix("input.path") == true)

            let duplicate = try await Self.graphQL(gateway, register, variables: ["in": input])
            #expect((Self.errors(duplicate.body).first?["extensions"] as? [String: Any])?["code"] as? String == "conflict")
            let unknown = try await Self.graphQL(gateway, #"mutation { registerRoute(service: "nope", input: {path: "/x"}) { name } }"#)
            #expect((Self.errors(unknown.body).first?["extensions"] as? [String: Any])?["code"] as? String == "not_found")
            #expect(try await AdminAPITests.call(gateway, "GET", "/api/brain/services/bad-one").status == 404)
        }
    }

    @Test func permissionsAndTenantConfinement() async throws {
        try await withGateway(services: Self.yaml) { gateway, backend in
            // No token, or a bad one: refused before GraphQL runs.
            let none = try await RawHTTP.send(port: gateway.port, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
            #expect(none.status == 401 && none.header("WWW-Authenticate") != nil)
            #expect(try await Self.graphQL(gateway, "{ services { name } }", token: "not-a-token").status == 401)

            // A user may query but not mutate.
            let user = TestTokens.user
            let mutation = try await Self.graphQL(
                gateway, #"mutation { registerService(input: {name: "sneaky", instances: ["\#(backend.url)"]}) { name } }"#, token: user)
            #expect(mutation.status == 200)
            #expect((Self.errors(mutation.body).first?["extensions"] as? [String: Any])?["code"] as? String == "forbidden")
            #expect(try await AdminAPITests.call(gateway, "GET", "/api/brain/services/sneaky").status == 404)
            let route = try await Self.graphQL(gateway, #"mutation { registerRoute(service: "svc", input: {path: "/y"}) { name } }"#, token: user)
            #expect((Self.errors(route.body).first?["extensions"] as? [String: Any])?["code"] as? String == "forbidden")

            // A tenant-A user sees global and tenant-A services only, and cannot ask for tenant B's.
            let seen = try await Self.graphQL(gateway, "{ services { name } }", token: user)
            let names = Set((Self.data(seen.body)["services"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String })
            #expect(names == ["svc", "mine"])
            let theirs = try await Self.graphQL(gateway, #"{ service(name: "theirs", tenant_id: "\#(TestTokens.tenantB)") { name } }"#, token: user)
            #expect((Self.errors(theirs.body).first?["extensions"] as? [String: Any])?["code"] as? String == "forbidden")
            let events = try await Self.graphQL(gateway, "{ events(limit: 100) { service tenant_id } }", token: user)
            let tenants = Set((Self.data(events.body)["events"] as? [[String: Any]] ?? []).compactMap { $0["tenant_id"] as? String })
            #expect((Self.data(events.body)["events"] as? [[String: Any]])?.isEmpty == false, "the user sees some events")
            #expect(!tenants.contains(TestTokens.tenantB))
            // Malformed requests are GraphQL errors, malformed bodies HTTP 400.
            let syntax = try await Self.graphQL(gateway, "{ services { name ", token: user)
            #expect(syntax.status == 200 && !Self.errors(syntax.body).isEmpty)
            let garbage = try await gateway.send("POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
            #expect(garbage.status == 400)
        }
    }

    /// The introspection query GraphiQL and other GraphQL tools send.
    static let introspectionQuery = """
        query IntrospectionQuery {
          __schema {
            queryType { name } mutationType { name } subscriptionType { name }
            types { ...FullType }
            directives { name description locations args { ...InputValue } }
          }
        }
        fragment FullType on __Type {
          kind name description
          fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
          inputFields { ...InputValue }
          interfaces { ...TypeRef }
          enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
          possibleTypes { ...TypeRef }
        }
        fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
        fragment TypeRef on __Type {
          kind name
          ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
        }
        """

    /// The code of the first error, if any.
    static func code(_ body: [String: Any]) -> String? {
        (errors(body).first?["extensions"] as? [String: Any])?["code"] as? String
    }

    @Test func documentsThatAskTooMuchAreRefusedBeforeTheyRun() async throws {
        try await withGateway(services: Self.yaml) { gateway, _ in
            let user = TestTokens.user
            // Nesting: a 1 MiB-class document of `{a{a{…` overflowed the parser's stack and
            // killed the process; now a GraphQL error, and the gateway goes on answering.
            let deep = String(repeating: "{a", count: 60_000) + String(repeating: "}", count: 60_000)
            let nested = try await Self.graphQL(gateway, deep, token: user)
            #expect(nested.status == 413 || Self.code(nested.body) == "query_too_large")
            let deepButSmall = String(repeating: "{a", count: 40) + String(repeating: "}", count: 40)
            #expect(Self.code(try await Self.graphQL(gateway, deepButSmall, token: user).body) == "query_too_complex")
            let lists = "query($v: String = " + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + ") { health { status } }"
            #expect(Self.code(try await Self.graphQL(gateway, lists, token: user).body) == "query_too_complex")

            // Aliases: each root field may be a store query.
            let aliases = "{ " + (0..<21).map { "e\($0): events(limit: 1000) { id }" }.joined(separator: " ") + " }"
            #expect(Self.code(try await Self.graphQL(gateway, aliases, token: user).body) == "query_too_complex")
            let twenty = "{ " + (0..<20).map { "e\($0): events(limit: 10) { id }" }.joined(separator: " ") + " }"
            let allowed = try await Self.graphQL(gateway, twenty, token: user)
            #expect(Self.errors(allowed.body).isEmpty && Self.data(allowed.body).count == 20)

            // Fields, aliases counted and fragments expanded where spread: a chain of fragments
            // each spreading the next twice is 2^12 fields from a few hundred bytes.
            var bomb = "{ services { ...F0 } }\n"
            for level in 0..<12 { bomb += "fragment F\(level) on Service { ...F\(level + 1) ...F\(level + 1) }\n" }
            bomb += "fragment F12 on Service { name }"
            #expect(Self.code(try await Self.graphQL(gateway, bomb, token: user).body) == "query_too_complex")
            let wide = "{ services { " + (0..<300).map { "n\($0): name" }.joined(separator: " ") + " } }"
            #expect(Self.code(try await Self.graphQL(gateway, wide, token: user).body) == "query_too_complex")

            // Size: the document itself.
            let padded = "{ health { status } }" + String(repeating: " ", count: 40_000)
            #expect(Self.code(try await Self.graphQL(gateway, padded, token: user).body) == "query_too_large")

            // Brackets inside strings and comments are not nesting.
            let quoted = "# " + String(repeating: "{", count: 100) + "\n{ events(type: \"" + String(repeating: "[", count: 100)
                + "\") { id } other: events(type: \"\"\"" + String(repeating: "(", count: 100) + "\"\"\") { id } }"
            let fine = try await Self.graphQL(gateway, quoted, token: user)
            #expect(Self.errors(fine.body).isEmpty, "\(fine.body)")
            #expect((Self.data(fine.body)["events"] as? [Any])?.isEmpty == true)

            // Tooling still works: GraphiQL's full introspection query (TypeRef seven levels deep,
            // fragments spread many times) is within the bounds.
            let introspection = try await Self.graphQL(gateway, Self.introspectionQuery, token: user)
            #expect(Self.errors(introspection.body).isEmpty, "\(introspection.body)")
            #expect(((Self.data(introspection.body)["__schema"] as? [String: Any])?["types"] as? [Any])?.isEmpty == false)

            // Still serving.
            let after = try await Self.graphQL(gateway, "{ health { status } }", token: user)
            #expect(Self.data(after.body)["health"] != nil)
        }
    }
}
