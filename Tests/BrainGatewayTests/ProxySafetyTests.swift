import Foundation
import Testing

/// Path-escape attempts, unknown services and routes, and the JSON error shape.
@Suite struct ProxySafetyTests {
    static let escapes = [
        "/svc/../secret", "/svc/./x/../../secret", "/svc/%2e%2e/secret", "/svc/%2E%2e/secret", "/svc/.%2e/secret",
        "/svc/%252e%252e/secret", "/svc/..%2Fsecret", "/svc/%2e%2e%2fsecret", "/svc/..%5Csecret", "/svc/..\\secret",
        "/svc/%5c..%5csecret", "/svc/a/%2e%2e/%2e%2e/secret",
    ]

    @Test(arguments: escapes)
    func pathEscapesAreRefusedAndNothingIsForwarded(path: String) async throws {
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            let response = try await gateway.send("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(response.status == 400, "\(path)")
            let json = try #require(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String])
            #expect(json["error"] == "bad_request")
            #expect(json["request_id"] == response.header("x-request-id"))
            #expect(backend.requests.isEmpty, "\(path) reached the backend")
        }
    }

    @Test(arguments: ["http://127.0.0.1:1/svc/x", "http://evil.example/x", "//evil.example/x", "///svc/../x"])
    func otherHostsCannotBeNamed(target: String) async throws {
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            let response = try await gateway.send("GET \(target) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect([400, 404].contains(response.status), "\(target) → \(response.status)")
            #expect(backend.requests.isEmpty)
        }
    }

    @Test func unknownServiceIs404WithJSON() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, _ in
            let response = try await gateway.send("GET /nope/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(response.status == 404)
            #expect(response.header("content-type") == "application/json")
            let json = try #require(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String])
            #expect(json["error"] == "service_not_found")
            #expect(json["detail"]?.contains("nope") == true)
            #expect(json["request_id"]?.isEmpty == false)
        }
    }

    @Test func servicesWithRoutesForwardOnlyMatchingPairs() async throws {
        try await withGateway(services: { b in
            oneService(b, extra: """
                    routes:
                      - {path: "/campaigns/{id}", methods: [GET]}
                      - {path: /campaigns, methods: [POST]}
                """)
        }) { gateway, backend in
            let ok = try await gateway.send("GET /svc/campaigns/42 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(ok.status == 200)
            #expect(backend.requests.last?.uri == "/base/campaigns/42")
            let wrongMethod = try await gateway.send("DELETE /svc/campaigns/42 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(wrongMethod.status == 404)
            let unknown = try await gateway.send("GET /svc/other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(unknown.status == 404)
            #expect(unknown.text.contains("route_not_found"))
            #expect(backend.requests.count == 1)
        }
    }

    @Test func declaredBodyOverLimitIs413AtOnce() async throws {
        try await withGateway(services: { oneService($0) }, configure: { $0.limits.maxBodyBytes = 1000 }) { gateway, backend in
            let response = try await gateway.send("POST /svc/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n")
            #expect(response.status == 413)
            #expect(response.text.contains("payload_too_large"))
            #expect(backend.requests.isEmpty)
        }
    }

    @Test func streamedBodyOverLimitIs413() async throws {
        try await withGateway(services: { oneService($0) }, configure: { $0.limits.maxBodyBytes = 1000 }) { gateway, _ in
            let chunk = String(repeating: "a", count: 600)
            let request = "POST /svc/hang HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n0\r\n\r\n"
            let response = try await gateway.send(request)
            #expect(response.status == 413)
            #expect(response.header("connection") == "close")
        }
    }

    @Test func controlPlaneErrorsUseTheSameJSONShape() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, _ in
            let response = try await gateway.send("GET /api/nothing-here HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(response.status == 404)
            let json = try #require(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String])
            #expect(json["error"] == "not_found")
            #expect(json["request_id"] != nil)
        }
    }
}
