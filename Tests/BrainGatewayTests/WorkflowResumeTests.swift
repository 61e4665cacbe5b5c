import Foundation
import Testing

/// A run survives its gateway being killed: the next process resumes it from the store.
@Suite struct WorkflowResumeTests {
    /// The run once it is no longer `running` (or as it is after 5 s).
    static func finishedRun(_ id: String, on gateway: GatewayProcess) async throws -> [String: Any] {
        var run: [String: Any] = [:]
        for _ in 0..<100 {
            run = AdminAPITests.json(try await gateway.send("GET /api/brain/runs/\(id) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
            if run["status"] as? String != "running" { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return run
    }

    @Test func aRunInterruptedBySIGKILLResumesWithoutRepeatingFinishedSteps() async throws {
        let backend = try await ScriptedBackend(reply: WorkflowTests.script(score: 90, delay: 0, cmsDelay: 0))
        // CRM is slow the first time: the gateway is killed while it waits.
        backend.setReply { request in
            if request.uri == "/crm/leads/create" { return .json(#"{"id": "L-1", "name": "Ada"}"#, delay: 10_000) }
            return WorkflowTests.script(score: 90)(request)
        }
        let database = "sqlite:\(NSTemporaryDirectory())brain-gateway-resume-\(UUID().uuidString).sqlite"
        let yaml = WorkflowTests.yaml(backend)
        var first: GatewayProcess? = try await GatewayProcess(yaml: yaml, environment: ["DATABASE_URL": database])
        var second: GatewayProcess?
        try await withTeardown {
            let gateway = try #require(first)
            let input = #"{"name": "Ada", "email": "ada@example.com"}"#
            let started = try await gateway.send(
                "POST /api/brain/contact/submit HTTP/1.1\r\nHost: x\r\nPrefer: respond-async\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(input.utf8.count)\r\nConnection: close\r\n\r\n" + input)
            #expect(started.status == 202, "\(started.text)")
            let runID = try #require(started.header("X-Brain-Run-ID"))
            for _ in 0..<100 where backend.requests(matching: "/leads/create").isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            #expect(backend.requests(matching: "/leads/create").count == 1)
            // CMS answered at once; give its transition a moment to be stored, then kill.
            for _ in 0..<100 where backend.requests(matching: "/forms/submit").first?.answeredAt == nil { try await Task.sleep(for: .milliseconds(20)) }
            try await Task.sleep(for: .milliseconds(300))
            gateway.signal(SIGKILL)
            _ = await gateway.waitForExit()
            first = nil
            // The next process resumes the run; CRM now answers at once.
            backend.setReply(WorkflowTests.script(score: 90))
            let next = try await GatewayProcess(yaml: yaml, environment: ["DATABASE_URL": database])
            second = next
            let run = try await Self.finishedRun(runID, on: next)
            #expect(run["status"] as? String == "succeeded", "\(run)")
            #expect((run["output"] as? NSDictionary) == ["success": true, "lead_id": "L-1", "score": 90, "priority": "high"] as NSDictionary)
            // Finished steps were not called again; the interrupted one was, with the same key.
            #expect(backend.requests(matching: "/agents/execute").count == 1)
            #expect(backend.requests(matching: "/forms/submit").count == 1)
            let crm = backend.requests(matching: "/leads/create")
            #expect(crm.count == 2)
            #expect(Set(crm.compactMap { $0.header("Idempotency-Key") }) == ["\(runID):crm"])
            #expect(backend.requests(matching: "/alerts/high-value-lead").count == 1)
            let steps = (run["steps"] as? [[String: Any]]) ?? []
            #expect(steps.first { $0["id"] as? String == "crm" }?["attempts"] as? Int == 2)
        } teardown: {
            await first?.stop()
            await second?.stop()
            await backend.shutdown()
        }
    }

    @Test func anInterruptedAsyncAgentCallResumesToo() async throws {
        let backend = try await ScriptedBackend { _ in .json(#"{"score": 1}"#, delay: 10_000) }
        let database = "sqlite:\(NSTemporaryDirectory())brain-gateway-resume-agent-\(UUID().uuidString).sqlite"
        let yaml = "services:\n  - {name: ai-agents, url: \(backend.url), base_path: /agents}\n"
        var first: GatewayProcess? = try await GatewayProcess(yaml: yaml, environment: ["DATABASE_URL": database])
        var second: GatewayProcess?
        try await withTeardown {
            let gateway = try #require(first)
            let started = try await gateway.send(
                "POST /api/brain/agents/facebook/publish HTTP/1.1\r\nHost: x\r\nPrefer: respond-async\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
            #expect(started.status == 202)
            let runID = try #require(started.header("X-Brain-Run-ID"))
            for _ in 0..<100 where backend.requests.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            try await Task.sleep(for: .milliseconds(200))
            gateway.signal(SIGKILL)
            _ = await gateway.waitForExit()
            first = nil
            backend.setReply { _ in .json(#"{"posted": true}"#) }
            let next = try await GatewayProcess(yaml: yaml, environment: ["DATABASE_URL": database])
            second = next
            let run = try await Self.finishedRun(runID, on: next)
            #expect(run["status"] as? String == "succeeded", "\(run)")
            let calls = backend.requests
            #expect(calls.count == 2 && Set(calls.compactMap { $0.header("Idempotency-Key") }) == ["\(runID):agent"])
            #expect((calls.last?.json as? [String: Any])?["pattern"] as? String == "four_agent")
        } teardown: {
            await first?.stop()
            await second?.stop()
            await backend.shutdown()
        }
    }
}
