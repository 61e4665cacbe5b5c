import BrainAPI
import Foundation
import Testing

/// `/openapi.json` stays true: it is a valid OpenAPI 3.1 document, every admin operation the
/// gateway serves is in it, every operation in it is served, and real responses validate
/// against its schemas.
@Suite struct OpenAPITests {
    static func document(_ gateway: GatewayHarness) async throws -> [String: Any] {
        let r = try await RawHTTP.send(port: gateway.port, "GET /openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(r.status == 200)
        return try #require(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
    }

    @Test func everyOperationIsDocumentedAndServed() async throws {
        try await withGateway(services: { b in "services:\n  - {name: crm, url: \(b.url)}\n" }) { gateway, _ in
            let paths = try #require(try await Self.document(gateway)["paths"] as? [String: [String: Any]])
            for operation in AdminOperation.allCases {
                #expect(paths[operation.path]?[operation.method.rawValue.lowercased()] != nil, "\(operation.method) \(operation.path) is not documented")
            }
            // Every documented operation exists (an authorised call never gets "no such endpoint").
            for (path, item) in paths {
                for method in ["get", "post", "put", "delete"] where item[method] != nil {
                    if path == "/api/brain/events/stream" { continue }  // endless; covered by AdminAPITests
                    let concrete = path.replacingOccurrences(of: "{name}", with: "crm")
                    let body = method == "post" || method == "put" ? "{}" : nil
                    let r = try await AdminAPITests.call(gateway, method.uppercased(), concrete, body: body)
                    let unrouted = r.status == 404 && AdminAPITests.json(r)["detail"] as? String == "no such endpoint"
                    #expect(!unrouted && r.status != 405 && r.status < 500, "\(method.uppercased()) \(path) → \(r.status) \(r.text.prefix(120))")
                }
            }
        }
    }

    @Test func theDocumentIsValidAndResponsesMatchItsSchemas() async throws {
        try await withGateway(services: { b in "services:\n  - {name: crm, url: \(b.url)}\n" }) { gateway, backend in
            var cases: [[String: Any]] = []
            func record(_ name: String, _ schema: String, _ r: RawResponse) {
                cases.append(["name": name, "schema": schema, "body": (try? JSONSerialization.jsonObject(with: Data(r.body))) ?? r.text])
            }
            let plain = { (path: String) in try await RawHTTP.send(port: gateway.port, "GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") }
            record("health", "Health", try await plain("/health"))
            record("ready", "Readiness", try await plain("/health/ready"))
            record("jwks", "JWKS", try await plain("/.well-known/jwks.json"))
            record("401", "Error", try await plain("/api/brain/services"))
            let weighted = #"{"name": "w", "instances": [{"url": "\#(backend.url)", "weight": 3}, "http://127.0.0.1:9"], "tenant_id": "\#(TestTokens.tenantA)", "routes": [{"path": "/x/{id}", "methods": ["GET"], "roles": ["r"]}], "circuit_breaker": {"failure_statuses": [502]}, "cache": {"ttl_seconds": 5}}"#
            record("create", "Service", try await AdminAPITests.call(gateway, "POST", "/api/brain/services", body: weighted))
            record("list", "ServiceList", try await AdminAPITests.call(gateway, "GET", "/api/brain/services"))
            record("get", "Service", try await AdminAPITests.call(gateway, "GET", "/api/brain/services/crm"))
            record("route", "Service", try await AdminAPITests.call(gateway, "POST", "/api/brain/services/crm/routes", body: #"{"path": "/a"}"#))
            record("422", "ValidationError", try await AdminAPITests.call(gateway, "POST", "/api/brain/services", body: #"{"name": "x"}"#))
            record("404", "Error", try await AdminAPITests.call(gateway, "GET", "/api/brain/services/none"))
            record("409", "Error", try await AdminAPITests.call(gateway, "POST", "/api/brain/services", body: #"{"name": "crm", "url": "http://a"}"#))
            _ = try await gateway.send("GET /crm/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(await gateway.gateway.journal.flushed())
            record("events", "EventList", try await AdminAPITests.call(gateway, "GET", "/api/brain/events"))
            record("detailed health", "DetailedHealth", try await AdminAPITests.call(gateway, "GET", "/api/brain/health"))
            record("metrics", "Metrics", try await AdminAPITests.call(gateway, "GET", "/api/brain/metrics"))
            record("integrations", "IntegrationList", try await AdminAPITests.call(gateway, "GET", "/api/brain/integrations"))
            record("integration", "Integration", try await AdminAPITests.call(gateway, "GET", "/api/brain/integrations/stripe"))
            record("optimize-platform", "DecisionList", try await AdminAPITests.call(gateway, "POST", "/api/brain/optimize-platform"))
            record("optimizer", "Optimiser", try await AdminAPITests.call(gateway, "GET", "/api/brain/optimizer"))
            record("optimizer paused", "Optimiser", try await AdminAPITests.call(gateway, "POST", "/api/brain/optimizer/pause"))

            let document = try await Self.document(gateway)
            let file = NSTemporaryDirectory() + "openapi-cases-\(UUID().uuidString).json"
            try JSONSerialization.data(withJSONObject: ["document": document, "cases": cases]).write(to: URL(fileURLWithPath: file))
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/validate_openapi.py")
            let python = ChildProcess()
            python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            python.arguments = ["python3", script.path, file]
            let out = Pipe()
            python.standardOutput = out
            python.standardError = out
            try await ProcessLaunch.run(python)
            while python.isRunning { try await Task.sleep(for: .milliseconds(20)) }
            let report = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(python.terminationStatus == 0, "\(report)")
            #expect(cases.count == 19)
        }
    }

    @Test func theDocsPageRendersTheDocument() async throws {
        try await withGateway(services: { b in "services:\n  - {name: crm, url: \(b.url)}\n" }) { gateway, _ in
            let page = try await RawHTTP.send(port: gateway.port, "GET /docs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(page.status == 200)
            #expect(page.header("Content-Type")?.hasPrefix("text/html") == true)
            #expect(page.text.contains("fetch(\"/openapi.json\")"))
        }
    }
}
