import Foundation
import Testing

/// The admin API agrees with its OpenAPI document, as schemathesis (PyPI) judges it with every
/// check: valid requests accepted, invalid ones refused, every status and header documented,
/// responses matching their schemas, 405 with `Allow` for other methods, no 5xx. The two
/// streaming operations (SSE, WebSocket) never end, so they are left out. The seeds are fixed,
/// so a run is repeatable; other seeds are run by hand (README, "Testing").
@Suite struct SchemathesisTests {
    @Test(arguments: [1, 2, 3])
    func theAdminAPIMatchesItsOpenAPIDocument(seed: Int) async throws {
        let gateway = try await GatewayProcess(yaml: "services:\n  - {name: crm, url: 'http://127.0.0.1:9'}\n")
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        let reports = NSTemporaryDirectory() + "schemathesis-\(UUID().uuidString)"
        var environment = ProcessInfo.processInfo.environment
        environment["SCHEMATHESIS_HOOKS"] = nil
        let run = try await ChildProcess.runCapturing(
            "/usr/bin/env",
            [
                "python3", "-m", "schemathesis.cli", "--config-file", fixtures.appendingPathComponent("schemathesis.toml").path,
                "run", "http://127.0.0.1:\(gateway.port)/openapi.json", "--checks", "all",
                "-H", "Authorization: Bearer \(TestTokens.admin)",
                "--exclude-path", "/api/brain/events/stream", "--exclude-path", "/ws/events",
                "--max-examples", "30", "--seed", String(seed), "--workers", "1", "--report-dir", reports,
            ],
            environment: environment, timeout: .seconds(300))
        await gateway.stop()
        let summary = run.output.split(separator: "\n").filter { $0.contains("ST") || $0.contains("curl") || $0.contains("`{") }.prefix(60).joined(separator: "\n")
        #expect(run.status == 0, "schemathesis (seed \(seed)) found disagreements:\n\(summary)\n\(run.errors.suffix(2000))")
        #expect(run.output.contains("Tested: 40"), "not every operation was tested:\n\(summary)")
    }
}
