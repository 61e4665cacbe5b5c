import Foundation
import Testing

/// Workflow definitions through the admin API: the services' rules (ETags, 409, 412, 422 with
/// `field`, tenant scope), events, and a definition usable as soon as it is stored.
@Suite struct WorkflowDefinitionAPITests {
    static let services = """
        services:
          - {name: crm, url: %URL%, base_path: /crm}
        """

    static func document(name: String = "lead", steps: String = #"[{"id": "create", "call": {"service": "crm", "method": "POST", "path": "/leads", "body": "{{ input }}"}}]"#, extra: String = "") -> String {
        #"{"name": "\#(name)", "steps": \#(steps)\#(extra)}"#
    }

    @Test func definitionsAreCheckedStoredVersionedAndRunnable() async throws {
        let backend = try await ScriptedBackend { request in .json(#"{"id": 42}"#, status: 201) }
        let gateway = try await GatewayHarness.start(yaml: Self.services.replacingOccurrences(of: "%URL%", with: backend.url))
        try await withTeardown {
            // Only platform-admin defines workflows.
            #expect(try await AdminAPITests.call(gateway, "POST", "/api/brain/workflows", body: Self.document(), token: TestTokens.user).status == 403)
            let created = try await AdminAPITests.call(gateway, "POST", "/api/brain/workflows", body: Self.document(extra: #", "response": {"status": 201, "body": {"lead": "{{ steps.create.body.id }}"}}"#))
            #expect(created.status == 201, "\(created.text)")
            #expect(created.header("ETag") == "\"1\"" && created.header("Location") == "/api/brain/workflows/lead")
            #expect(try await AdminAPITests.call(gateway, "POST", "/api/brain/workflows", body: Self.document()).status == 409)
            // Runnable at once, by any caller.
            let run = try await AdminAPITests.call(gateway, "POST", "/api/brain/workflows/lead/runs", body: #"{"name": "Ada"}"#, token: TestTokens.user)
            #expect(run.status == 201 && AdminAPITests.json(run) as NSDictionary == ["lead": 42] as NSDictionary, "\(run.text)")
            #expect((backend.requests.first?.json as? NSDictionary) == ["name": "Ada"] as NSDictionary)
            // Replace with If-Match; a stale one is 412.
            let replaced = try await AdminAPITests.call(gateway, "PUT", "/api/brain/workflows/lead", body: Self.document(extra: #", "timeout_ms": 5000"#), headers: "If-Match: \"1\"\r\n")
            #expect(replaced.status == 200 && replaced.header("ETag") == "\"2\"", "\(replaced.text)")
            #expect(AdminAPITests.json(replaced)["timeout_ms"] as? Int == 5000 && AdminAPITests.json(replaced)["version"] as? Int == 2)
            #expect(try await AdminAPITests.call(gateway, "PUT", "/api/brain/workflows/lead", body: Self.document(), headers: "If-Match: \"1\"\r\n").status == 412)
            let list = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/workflows"))
            #expect((list["workflows"] as? [[String: Any]])?.map { $0["name"] as? String } == ["lead"])
            // Removed: gone for runs too.
            #expect(try await AdminAPITests.call(gateway, "DELETE", "/api/brain/workflows/lead", headers: "If-Match: \"2\"\r\n").status == 204)
            #expect(try await AdminAPITests.call(gateway, "GET", "/api/brain/workflows/lead").status == 404)
            #expect(try await AdminAPITests.call(gateway, "POST", "/api/brain/workflows/lead/runs", body: "{}", token: TestTokens.user).status == 404)
            #expect(await gateway.gateway.journal.flushed())
            let types = (AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/events?limit=1000"))["events"] as? [[String: Any]])?.map { $0["type"] as? String ?? "" } ?? []
            #expect(types.contains("WorkflowRegistered") && types.contains("WorkflowUpdated") && types.contains("WorkflowRemoved"))
            #expect(types.contains("WorkflowRunStarted") && types.contains("WorkflowRunSucceeded"))
        } teardown: {
            await gateway.stop()
            await backend.shutdown()
        }
    }

    @Test(arguments: [
        (#"[{"id": "a", "needs": ["b"], "call": {"service": "crm", "path": "/"}}, {"id": "b", "needs": ["a"], "call": {"service": "crm", "path": "/"}}]"#, "steps[0].needs"),
        (#"[{"id": "a", "needs": ["zzz"], "call": {"service": "crm", "path": "/"}}]"#, "steps[0].needs"),
        (#"[{"id": "a", "when": "input.x >", "call": {"service": "crm", "path": "/"}}]"#, "steps[0].when"),
        (#"[{"id": "a", "call": {"service": "crm", "path": "/", "body": {"x": "{{ steps.nope.body }}"}}}]"#, "steps[0].call.body"),
        (#"[{"id": "a", "call": {"service": "nobody", "path": "/"}}]"#, "steps[0].call.service"),
        (#"[{"id": "a", "agent": "scorer", "action": "x"}]"#, "steps[0].agent"),
        (#"[{"id": "A", "call": {"service": "crm", "path": "/"}}]"#, "steps[0].id"),
        (#"[{"id": "a", "call": {"service": "crm", "path": "/"}, "retry": {"attempts": 11}}]"#, "steps[0].retry.attempts"),
        (#"[{"id": "a", "call": {"service": "crm", "path": "/", "headers": {"X-Tenant-ID": "x"}}}]"#, "steps[0].call.headers.X-Tenant-ID"),
        (#"[{"id": "a", "call": {"service": "crm", "path": "/"}, "agent": "x"}]"#, "steps[0]"),
        (#"[]"#, "steps"),
    ])
    func badDefinitionsAre422NamingTheField(steps: String, field: String) async throws {
        try await withGateway(services: { b in Self.services.replacingOccurrences(of: "%URL%", with: b.url) }) { gateway, _ in
            let r = try await AdminAPITests.call(gateway, "POST", "/api/brain/workflows", body: Self.document(steps: steps))
            #expect(r.status == 422, "\(r.text)")
            #expect(AdminAPITests.json(r)["field"] as? String == field, "\(r.text)")
        }
    }

    @Test func aTenantsWorkflowShadowsTheGlobalOneForThatTenantOnly() async throws {
        let backend = try await ScriptedBackend { request in .json(#"{"uri": "\#(request.uri)"}"#) }
        let gateway = try await GatewayHarness.start(yaml: Self.services.replacingOccurrences(of: "%URL%", with: backend.url))
        try await withTeardown {
            let global = Self.document(steps: #"[{"id": "a", "call": {"service": "crm", "path": "/global"}}]"#)
            let own = Self.document(steps: #"[{"id": "a", "call": {"service": "crm", "path": "/own"}}]"#)
            #expect(try await AdminAPITests.call(gateway, "POST", "/api/brain/workflows", body: global).status == 201)
            #expect(try await AdminAPITests.call(gateway, "POST", "/api/brain/workflows", body: own, headers: "X-Tenant-ID: \(TestTokens.tenantA)\r\n").status == 201)
            let a = AdminAPITests.json(try await AdminAPITests.call(gateway, "POST", "/api/brain/workflows/lead/runs", body: "{}", token: TestTokens.user))
            let tenantB = TestTokens.make(sub: "b", tenant: TestTokens.tenantB)
            let b = AdminAPITests.json(try await AdminAPITests.call(gateway, "POST", "/api/brain/workflows/lead/runs", body: "{}", token: tenantB))
            #expect(((a["output"] as? [String: Any])?["a"] as? [String: Any])?["uri"] as? String == "/crm/own")
            #expect(((b["output"] as? [String: Any])?["a"] as? [String: Any])?["uri"] as? String == "/crm/global")
        } teardown: {
            await gateway.stop()
            await backend.shutdown()
        }
    }
}
