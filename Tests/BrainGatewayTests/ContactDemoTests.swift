import Foundation
import Testing

/// The README's contact-flow demo, exactly as a newcomer runs it: the shipped configuration and
/// `examples/contact-demo/backends.py` on the shipped ports.
@Suite(.serialized) struct ContactDemoTests {
    @Test func theShippedContactFlowRunsAgainstTheDemoBackends() async throws {
        let root = GatewayProcess.executable.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        // The interpreter itself, not a launcher (`env`, a pyenv shim) whose child would outlive
        // the signal that stops it.
        let python = try await ChildProcess.runCapturing("/usr/bin/env", ["python3", "-c", "import sys; print(sys.executable)"])
        let backends = ChildProcess()
        backends.executableURL = URL(fileURLWithPath: python.output.trimmingCharacters(in: .whitespacesAndNewlines))
        backends.arguments = [root.appendingPathComponent("examples/contact-demo/backends.py").path]
        let output = NSTemporaryDirectory() + "contact-demo-\(UUID().uuidString).out"
        FileManager.default.createFile(atPath: output, contents: nil)
        backends.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        backends.standardError = backends.standardOutput
        try await ProcessLaunch.run(backends)
        var gateway: GatewayProcess?
        try await withTeardown {
            // The four stand-ins listen once they printed their addresses.
            for _ in 0..<100 where (try? String(contentsOfFile: output, encoding: .utf8))?.contains("8010") != true {
                try await Task.sleep(for: .milliseconds(50))
            }
            let yaml = try String(contentsOf: root.appendingPathComponent("config/brain-gateway.yaml"), encoding: .utf8)
            let started = try await GatewayProcess(yaml: yaml)
            gateway = started
            let input = #"{"name": "Ada", "email": "ada@example.com", "score_hint": 91}"#
            let r = try await started.send(
                "POST /api/brain/contact/submit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(input.utf8.count)\r\nConnection: close\r\n\r\n" + input)
            #expect(r.status == 200, "\(r.text)")
            let answer = try #require(JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
            #expect(answer["success"] as? Bool == true && answer["score"] as? Int == 91 && answer["priority"] as? String == "high")
            #expect((answer["lead_id"] as? String)?.hasPrefix("lead-") == true)
            let log = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            #expect(log.contains("notification  POST /api/v1/notifications/alerts/high-value-lead"), "\(log)")
            #expect(log.contains("workflow=contact-submit"))
        } teardown: {
            await gateway?.stop()
            // SIGKILL: the test process's threads block SIGTERM, and a child inherits that mask.
            kill(backends.processIdentifier, SIGKILL)
            for _ in 0..<100 where backends.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        }
    }
}
