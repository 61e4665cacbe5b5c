import Foundation
import Testing

/// Integrations through the shipped executables: `brainctl integrations …` against a gateway
/// process with the embedded secret store, its whole output (trace-level logs) scanned for the
/// credential afterwards.
@Suite struct IntegrationProcessTests {
    @Test func brainctlActivatesCallsAndDeactivatesWithoutTheValueLeaking() async throws {
        let secret = "sk_live_PROCESS_" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let provider = try await ScriptedBackend { request in
            request.headers.first(name: "X-Api-Key") == secret ? .json(#"{"balance":42}"#) : .json(#"{"error":"no"}"#, status: 401)
        }
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let gateway = try await GatewayProcess(
            yaml: """
                services: []
                integrations:
                  - {name: acme, category: payments, auth: "header:X-Api-Key", credentials: [api_key], base_url: "\(provider.url)/v2", verify: {method: GET, path: /balance}}
                """,
            environment: ["BRAIN_GATEWAY_SECRETS_KEY": key, "LOG_LEVEL": "trace"])
        let admin = ["BRAIN_GATEWAY_URL": "http://127.0.0.1:\(gateway.port)", "BRAIN_GATEWAY_TOKEN": IntegrationProxyTests.tenantAdmin]
        let credentialsFile = NSTemporaryDirectory() + "brainctl-credentials-\(UUID().uuidString).json"
        try #"{"api_key": "\#(secret)"}"#.write(toFile: credentialsFile, atomically: true, encoding: .utf8)
        try await withTeardown {
            var (code, out, err) = try await BrainctlTests.run(["integrations", "list"], environment: admin)
            #expect(code == 0 && out.hasPrefix("NAME") && out.contains("acme") && out.contains("inactive"), "\(err)")
            (code, _, err) = try await BrainctlTests.run(["integrations", "activate", "acme", "--set", "api_key=wrong"], environment: admin)
            #expect(code == 1 && err.contains("HTTP 422 invalid_credentials"))
            (code, out, err) = try await BrainctlTests.run(["integrations", "activate", "acme", "--file", credentialsFile], environment: admin)
            #expect(code == 0 && out.contains("acme active (sha256:"), "\(err)")
            (code, out, err) = try await BrainctlTests.run(["integrations", "call", "acme", "/balance?currency=eur"], environment: admin)
            #expect(code == 0 && out.contains(#""balance":42"#), "\(err)")
            #expect(provider.requests.last?.uri == "/v2/balance?currency=eur")
            (code, out, _) = try await BrainctlTests.run(["integrations", "deactivate", "acme"], environment: admin)
            #expect(code == 0 && out.contains("deactivated acme"))
            (code, _, err) = try await BrainctlTests.run(["integrations", "call", "acme", "/balance"], environment: admin)
            #expect(code == 1 && err.contains("HTTP 409"))
            let metrics = try await RawHTTP.send(port: gateway.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(metrics.text.contains("brain_gateway_integration_requests_total"))
            await gateway.stop()
            let logged = gateway.standardOutput() + gateway.errorOutput()
            #expect(logged.contains("acme"), "the trace-level output should mention the calls")
            for text in [logged, metrics.text] { #expect(!text.contains(secret) && !text.contains(key)) }
        } teardown: {
            await gateway.stop()
            await provider.shutdown()
        }
    }
}
