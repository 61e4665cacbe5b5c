import Foundation
import Testing

/// `X-Brain-Token`: what backends receive, verified the way a backend would, and its reuse.
@Suite struct ProofOfOriginTests {
    static func forwardedToken(_ backend: TestBackend) -> String? {
        backend.requests.last?.headers["x-brain-token"].first
    }

    /// Runs the Python fixture (PyJWT) against the gateway's JWKS; returns the claims or fails.
    static func verifyWithPyJWT(gateway: String, service: String, token: String) async throws -> [String: Any] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/verify_brain_token.py")
        let python = ChildProcess()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", script.path, gateway, service, token]
        let out = Pipe(), err = Pipe()
        python.standardOutput = out
        python.standardError = err
        try await ProcessLaunch.run(python)
        // Never block a cooperative thread: the in-process gateway's control plane needs them
        // to answer the script's JWKS request.
        while python.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        guard python.terminationStatus == 0 else {
            let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            Issue.record("PyJWT refused the token: \(message)")
            return [:]
        }
        return try #require(JSONSerialization.jsonObject(with: output) as? [String: Any])
    }

    @Test func backendsVerifyTheTokenWithPyJWT() async throws {
        try await withGateway(services: { oneService($0, extra: "    roles: []") }) { gateway, backend in
            let user = TestTokens.make(sub: "alice", roles: ["reader", "writer"])
            let r = try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nX-Brain-Token: forged\r\nConnection: close\r\n\r\n", token: user)
            #expect(r.status == 200)
            let tokens = backend.requests.last?.headers["x-brain-token"] ?? []
            #expect(tokens.count == 1 && tokens.first != "forged")
            let claims = try await Self.verifyWithPyJWT(gateway: gateway.base, service: "svc", token: try #require(tokens.first))
            #expect(claims["iss"] as? String == "brain-gateway")
            #expect(claims["aud"] as? String == "svc")
            #expect(claims["sub"] as? String == "alice")
            #expect(claims["tenant_id"] as? String == TestTokens.tenantA)
            #expect(claims["roles"] as? [String] == ["reader", "writer"])
            let iat = try #require(claims["iat"] as? Int), exp = try #require(claims["exp"] as? Int)
            #expect(exp - iat <= 300 && exp > Int(Date().timeIntervalSince1970))
        }
    }

    @Test func aTokenForAnotherServiceOrAnotherKeyIsRefusedByPyJWT() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            _ = try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let token = try #require(Self.forwardedToken(backend))
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/verify_brain_token.py")
            let python = ChildProcess()
            python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            python.arguments = ["python3", script.path, gateway.base, "other-service", token]
            python.standardOutput = FileHandle.nullDevice
            python.standardError = FileHandle.nullDevice
            try await ProcessLaunch.run(python)
            while python.isRunning { try await Task.sleep(for: .milliseconds(20)) }
            #expect(python.terminationStatus != 0)
        }
    }

    @Test func tokensAreReusedPerCallerAndService() async throws {
        try await withGateway(services: { b in
            "services:\n  - {name: svc, url: \(b.url)}\n  - {name: other, url: \(b.url)}\n"
        }) { gateway, backend in
            // Keep-alive on one connection: one event loop, one cache.
            let request = "GET /svc/a HTTP/1.1\r\nHost: x\r\n\r\nGET /svc/b HTTP/1.1\r\nHost: x\r\n\r\nGET /other/c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            _ = try await gateway.exchange(request)
            let tokens = backend.requests.compactMap { $0.headers["x-brain-token"].first }
            #expect(tokens.count == 3)
            #expect(tokens[0] == tokens[1])
            #expect(tokens[0] != tokens[2])
            _ = try await gateway.send("GET /svc/a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", token: TestTokens.make(sub: "bob"))
            #expect(Self.forwardedToken(backend) != tokens[0])
        }
    }

    @Test func jwksIsPublic() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, _ in
            let r = try await RawHTTP.send(port: gateway.port, "GET /.well-known/jwks.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(r.status == 200)
            let json = try #require(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
            let key = try #require((json["keys"] as? [[String: Any]])?.first)
            #expect(key["kty"] as? String == "EC" && key["crv"] as? String == "P-256" && key["alg"] as? String == "ES256")
            #expect(key["d"] == nil)
        }
    }
}
