import Foundation
import Testing

/// Route methods and `health_check` are validated alike in the admin API, GraphQL and the YAML.
@Suite struct ServiceDocumentValidationTests {
    @Test func routeMethodsAreTheStandardOnes() async throws {
        try await withGateway(services: { _ in "services: []" }) { gateway, backend in
            let fetch = #"{"name": "m", "instances": ["\#(backend.url)"], "routes": [{"path": "/x", "methods": ["GET", "FETCH"]}]}"#
            let refused = try await AdminAPITests.call(gateway, "POST", "/api/brain/services", body: fetch)
            #expect(refused.status == 422)
            #expect(AdminAPITests.json(refused)["field"] as? String == "routes[0].methods")
            #expect((AdminAPITests.json(refused)["detail"] as? String)?.contains("FETCH") == true)

            let good = #"{"name": "m", "instances": ["\#(backend.url)"], "routes": [{"path": "/x", "methods": ["GET"]}]}"#
            #expect(try await AdminAPITests.call(gateway, "POST", "/api/brain/services", body: good).status == 201)
            let typo = try await AdminAPITests.call(gateway, "POST", "/api/brain/services/m/routes", body: #"{"path": "/y", "methods": ["GTE"]}"#)
            #expect(typo.status == 422)
            #expect(AdminAPITests.json(typo)["field"] as? String == "methods")
            let lower = try await AdminAPITests.call(gateway, "POST", "/api/brain/services/m/routes", body: #"{"path": "/y", "methods": ["get"]}"#)
            #expect(lower.status == 422)

            let register = "mutation($in: ServiceInput!) { registerService(input: $in) { name } }"
            let input: [String: Any] = ["name": "g", "instances": [backend.url], "routes": [["path": "/x", "methods": ["FETCH"]]]]
            let viaGraphQL = try await GraphQLTests.graphQL(gateway, register, variables: ["in": input])
            let extensions = GraphQLTests.errors(viaGraphQL.body).first?["extensions"] as? [String: Any]
            #expect(extensions?["field"] as? String == "routes[0].methods")
            let route = try await GraphQLTests.graphQL(gateway, #"mutation { registerRoute(service: "m", input: {path: "/z", methods: ["GTE"]}) { name } }"#)
            #expect((GraphQLTests.errors(route.body).first?["extensions"] as? [String: Any])?["field"] as? String == "input.methods")
        }
    }

    @Test func healthCheckThresholdsRoundTripAndAreChecked() async throws {
        try await withGateway(services: { _ in "services: []" }) { gateway, backend in
            let document = #"{"name": "h", "instances": ["\#(backend.url)"], "health_check": {"unhealthy_threshold": 4, "healthy_threshold": 3}}"#
            let created = try await AdminAPITests.call(gateway, "POST", "/api/brain/services", body: document)
            #expect(created.status == 201)
            let check = AdminAPITests.json(created)["health_check"] as? [String: Any]
            #expect(check?["unhealthy_threshold"] as? Int == 4 && check?["healthy_threshold"] as? Int == 3)
            let defaults = try await AdminAPITests.call(
                gateway, "POST", "/api/brain/services", body: #"{"name": "d", "instances": ["\#(backend.url)"]}"#)
            let defaultCheck = AdminAPITests.json(defaults)["health_check"] as? [String: Any]
            #expect(defaultCheck?["unhealthy_threshold"] as? Int == 2 && defaultCheck?["healthy_threshold"] as? Int == 1)

            let zero = try await AdminAPITests.call(
                gateway, "POST", "/api/brain/services", body: #"{"name": "z", "instances": ["\#(backend.url)"], "health_check": {"unhealthy_threshold": 0}}"#)
            #expect(zero.status == 422 && AdminAPITests.json(zero)["field"] as? String == "health_check.unhealthy_threshold")

            let register = "mutation($in: ServiceInput!) { registerService(input: $in) { name } }"
            let input: [String: Any] = ["name": "g", "instances": [backend.url], "health_check": ["healthy_threshold": 0]]
            let viaGraphQL = try await GraphQLTests.graphQL(gateway, register, variables: ["in": input])
            let extensions = GraphQLTests.errors(viaGraphQL.body).first?["extensions"] as? [String: Any]
            #expect(extensions?["field"] as? String == "health_check.healthy_threshold")
            let accepted = try await GraphQLTests.graphQL(
                gateway, register, variables: ["in": ["name": "g2", "instances": [backend.url], "health_check": ["unhealthy_threshold": 5]]])
            #expect(GraphQLTests.errors(accepted.body).isEmpty, "\(accepted.body)")
            let stored = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/services/g2"))
            #expect((stored["health_check"] as? [String: Any])?["unhealthy_threshold"] as? Int == 5)
        }
    }

    @Test func theAdminAPIAnswersWhatItsDocumentSays() async throws {
        try await withGateway(services: { b in "services:\n  - {name: crm, url: \(b.url), routes: [{path: /a, methods: [GET]}]}\n" }) { gateway, _ in
            // An overlapping route is a conflict with the service's state: 409, not 422.
            let overlap = try await AdminAPITests.call(gateway, "POST", "/api/brain/services/crm/routes", body: #"{"path": "/a", "methods": ["GET"]}"#)
            #expect(overlap.status == 409)
            // A known path with a method it does not serve: 405 with Allow.
            let wrong = try await AdminAPITests.call(gateway, "PATCH", "/api/brain/services/crm")
            #expect(wrong.status == 405)
            #expect(wrong.header("Allow") == "GET, PUT, DELETE")
            #expect(try await AdminAPITests.call(gateway, "GET", "/api/brain/nothing-here").status == 404)
            // An empty X-Tenant-ID or ?tenant_id= is refused, not read as "every tenant".
            let blank = try await AdminAPITests.call(gateway, "GET", "/api/brain/services", headers: "X-Tenant-ID: \r\n")
            #expect(blank.status == 422 && AdminAPITests.json(blank)["field"] as? String == "tenant_id")
            #expect(try await AdminAPITests.call(gateway, "GET", "/api/brain/events?tenant_id=").status == 422)
            // A document without tenant_id sent to a tenant belongs to that tenant.
            let scoped = try await AdminAPITests.call(
                gateway, "POST", "/api/brain/services", body: #"{"name": "mine", "url": "http://127.0.0.1:9"}"#,
                headers: "X-Tenant-ID: \(TestTokens.tenantA)\r\n")
            #expect(scoped.status == 201 && AdminAPITests.json(scoped)["tenant_id"] as? String == TestTokens.tenantA)
            // Hosts are host names or addresses; a timeout has a ceiling.
            for document in [
                #"{"name": "h1", "url": "http://bad host"}"#, #"{"name": "h2", "url": "http://a\u0001b"}"#,
                #"{"name": "h3", "url": "http://a:080"}"#, #"{"name": "h4", "url": "http://a", "timeout_ms": 130991297672747}"#,
            ] {
                #expect(try await AdminAPITests.call(gateway, "POST", "/api/brain/services", body: document).status == 422, "\(document)")
            }
            // JSON Schema's integers include 5.0.
            #expect(try await AdminAPITests.call(gateway, "POST", "/api/brain/services", body: #"{"name": "f", "url": "http://a", "timeout_ms": 5.0}"#).status == 201)
        }
    }
}
