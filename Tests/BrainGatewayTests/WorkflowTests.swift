import Foundation
import Synchronization
import Testing

@testable import BrainApplication
@testable import BrainDomain

/// Workflows end to end: real backends, the gateway in process, runs through its data plane.
@Suite struct WorkflowTests {
    /// The contact flow of the seed, with a compensation on CMS too so failures can show it.
    static func yaml(_ backend: ScriptedBackend, agents: String? = nil, timeoutMs: Int = 15_000, crmAttempts: Int = 3) -> String {
        """
        services:
          - {name: ai-agents, url: \(agents ?? backend.url), base_path: /agents}
          - {name: wagtail-cms, url: \(backend.url), base_path: /cms}
          - {name: django-crm, url: \(backend.url), base_path: /crm}
          - {name: notification, url: \(backend.url), base_path: /notify}
        workflows:
          - name: contact-submit
            expose: {method: POST, path: /api/brain/contact/submit}
            timeout_ms: \(timeoutMs)
            input: {required: [name, email], properties: {name: string, email: string, score_hint: number}}
            steps:
              - id: score
                agent: lead-scoring-agent
                action: calculate_score
                with: "{{ input }}"
                fallback: {score: 50}
              - id: cms
                needs: [score]
                call: {service: wagtail-cms, method: POST, path: /forms/submit, body: "{{ input }}"}
                compensate: {service: wagtail-cms, method: DELETE, path: "/forms/{{ steps.cms.body.id }}"}
              - id: crm
                needs: [score]
                call: {service: django-crm, method: POST, path: /leads/create,
                       body: {name: "{{ input.name }}", email: "{{ input.email }}", score: "{{ steps.score.body.score }}", source: website}}
                retry: {attempts: \(crmAttempts), backoff_ms: 50, max_backoff_ms: 200}
                compensate: {service: django-crm, method: DELETE, path: "/leads/{{ steps.crm.body.id }}"}
              - id: notify
                needs: [crm]
                when: "steps.score.body.score > 80"
                optional: true
                call: {service: notification, method: POST, path: /alerts/high-value-lead, body: "{{ steps.crm.body }}"}
            response:
              status: 200
              body: {success: true, lead_id: "{{ steps.crm.body.id }}", score: "{{ steps.score.body.score }}",
                     priority: "{{ steps.score.body.score > 80 ? 'high' : 'normal' }}"}
        """
    }

    /// The four backends' answers: the agent scores `score`; CMS and CRM answer after `delay`.
    static func script(score: Int, delay: Int = 0, cmsDelay: Int? = nil, crmStatus: Int = 200) -> @Sendable (ScriptedBackend.Request) -> ScriptedBackend.Reply {
        { request in
            switch (request.method, request.uri) {
            case ("POST", "/agents/execute"): return .json(#"{"score": \#(score), "reasons": ["form"]}"#)
            case ("POST", "/cms/forms/submit"): return .json(#"{"id": 7, "page": "thanks"}"#, delay: cmsDelay ?? delay)
            case ("POST", "/crm/leads/create"):
                return crmStatus == 200 ? .json(#"{"id": "L-1", "name": "Ada"}"#, delay: delay) : .json(#"{"error": "busy"}"#, status: crmStatus)
            case ("POST", "/notify/alerts/high-value-lead"): return .json(#"{"sent": true}"#, status: 202)
            default: return .json("{}", status: request.method == "DELETE" ? 204 : 404)
            }
        }
    }

    static func withContactFlow(
        _ script: @escaping @Sendable (ScriptedBackend.Request) -> ScriptedBackend.Reply, yaml: ((ScriptedBackend) -> String)? = nil,
        _ body: (GatewayHarness, ScriptedBackend) async throws -> Void
    ) async throws {
        let backend = try await ScriptedBackend(reply: script)
        let gateway = try await GatewayHarness.start(yaml: (yaml ?? { Self.yaml($0) })(backend))
        try await withTeardown {
            try await body(gateway, backend)
        } teardown: {
            await gateway.stop()
            await backend.shutdown()
        }
    }

    static func submit(_ gateway: GatewayHarness, _ body: String = #"{"name": "Ada", "email": "ada@example.com"}"#, headers: String = "", token: String = TestTokens.user) async throws -> RawResponse {
        try await AdminAPITests.call(gateway, "POST", "/api/brain/contact/submit", body: body, headers: "Content-Type: application/json\r\n" + headers, token: token)
    }

    @Test func aHighScoreRunsCMSAndCRMTogetherAndNotifiesWithTheCRMBody() async throws {
        try await Self.withContactFlow(Self.script(score: 81, delay: 300)) { gateway, backend in
            let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
            let response = try await Self.submit(gateway, headers: "traceparent: 00-\(traceID)-00f067aa0ba902b7-01\r\n")
            #expect(response.status == 200, "\(response.text)")
            let answer = AdminAPITests.json(response)
            #expect(answer as NSDictionary == ["success": true, "lead_id": "L-1", "score": 81, "priority": "high"] as NSDictionary)
            let runID = try #require(response.header("X-Brain-Run-ID"))
            // CMS and CRM overlapped in time.
            let cms = try #require(backend.requests(matching: "/forms/submit").first)
            let crm = try #require(backend.requests(matching: "/leads/create").first)
            #expect(cms.arrivedAt < (crm.answeredAt ?? .distantPast) && crm.arrivedAt < (cms.answeredAt ?? .distantPast))
            // Notify: once, with the CRM's body.
            let notify = backend.requests(matching: "/alerts/high-value-lead")
            #expect(notify.count == 1)
            #expect((notify.first?.json as? NSDictionary) == ["id": "L-1", "name": "Ada"] as NSDictionary)
            #expect((crm.json as? NSDictionary) == ["name": "Ada", "email": "ada@example.com", "score": 81, "source": "website"] as NSDictionary)
            // The agents service got the §6 request.
            let agent = try #require(backend.requests(matching: "/agents/execute").first)
            let payload = try #require(agent.json as? [String: Any])
            #expect(payload["agent"] as? String == "lead-scoring-agent" && payload["integration"] is NSNull)
            #expect(payload["pattern"] as? String == "single_agent" && payload["agents"] as? Int == 1)
            #expect(payload["action"] as? String == "calculate_score" && payload["tenant_id"] as? String == TestTokens.tenantA)
            #expect((payload["data"] as? NSDictionary) == ["name": "Ada", "email": "ada@example.com"] as NSDictionary)
            // Every step call: the caller's tenant, the run's trace, its idempotency key, the workflow.
            for (request, step) in [(agent, "score"), (cms, "cms"), (crm, "crm"), (notify[0], "notify")] {
                #expect(request.header("X-Tenant-ID") == TestTokens.tenantA)
                #expect(request.header("Idempotency-Key") == "\(runID):\(step)")
                #expect(request.header("X-Brain-Workflow") == "contact-submit")
                #expect(request.header("traceparent")?.hasPrefix("00-\(traceID)-") == true)
                #expect(request.header("Authorization") == nil)
            }
            let token = try #require(crm.header("X-Brain-Token"))
            let claims = try await ProofOfOriginTests.verifyWithPyJWT(gateway: gateway.base, service: "django-crm", token: token)
            #expect(claims["sub"] as? String == "user-1" && claims["tenant_id"] as? String == TestTokens.tenantA)
            // The run is stored with its steps.
            let stored = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/runs/\(runID)", token: TestTokens.user))
            #expect(stored["status"] as? String == "succeeded" && stored["workflow"] as? String == "contact-submit")
            let states = (stored["steps"] as? [[String: Any]])?.map { $0["state"] as? String ?? "" }
            #expect(states == ["succeeded", "succeeded", "succeeded", "succeeded"])
            // Prometheus counts the run and the agent call.
            let metrics = try await RawHTTP.send(port: gateway.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").text
            #expect(metrics.contains(#"brain_gateway_workflow_runs_total{workflow="contact-submit",status="succeeded"} 1"#), "\(metrics.prefix(400))")
            #expect(metrics.contains(#"brain_gateway_workflow_run_duration_seconds_count{workflow="contact-submit"} 1"#))
            #expect(metrics.contains(#"brain_gateway_agent_executions_total{pattern="single_agent",status="ok"} 1"#))
        }
    }

    @Test func aScoreOf80DoesNotNotify() async throws {
        try await Self.withContactFlow(Self.script(score: 80)) { gateway, backend in
            let response = try await Self.submit(gateway)
            #expect(response.status == 200, "\(response.text)")
            #expect(AdminAPITests.json(response) as NSDictionary == ["success": true, "lead_id": "L-1", "score": 80, "priority": "normal"] as NSDictionary)
            #expect(backend.requests(matching: "/alerts/high-value-lead").isEmpty)
            let run = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/runs/\(response.header("X-Brain-Run-ID") ?? "")", token: TestTokens.user))
            #expect((run["steps"] as? [[String: Any]])?.last?["state"] as? String == "skipped")
        }
    }

    @Test func aFailingCRMIsRetriedThenTheRunFailsAndCompensates() async throws {
        try await Self.withContactFlow(Self.script(score: 90, crmStatus: 503)) { gateway, backend in
            let response = try await Self.submit(gateway)
            #expect(response.status == 502, "\(response.text)")
            let body = AdminAPITests.json(response)
            #expect(body["error"] as? String == "workflow_failed" && body["failed_step"] as? String == "crm")
            #expect(body["run_id"] as? String == response.header("X-Brain-Run-ID") && body["request_id"] is String)
            #expect(backend.requests(matching: "/leads/create").count == 3)
            let steps = try #require(body["steps"] as? [[String: Any]])
            #expect(steps.map { $0["state"] as? String ?? "" } == ["succeeded", "compensated", "failed", "cancelled"])
            // CMS's result is kept with the run; its compensation was made once.
            #expect((steps[1]["body"] as? NSDictionary) == ["id": 7, "page": "thanks"] as NSDictionary)
            #expect(backend.requests.filter { $0.method == "DELETE" }.map(\.uri) == ["/cms/forms/7"])
            #expect(backend.requests.filter { $0.method == "DELETE" }.first?.header("Idempotency-Key") == "\(response.header("X-Brain-Run-ID") ?? ""):cms:compensate")
            #expect(backend.requests(matching: "/alerts/high-value-lead").isEmpty)
        }
    }

    @Test func aCompensationAnswering503IsRetriedWithTheSameKey() async throws {
        let deletes = Atomic<Int>(0)
        let script: @Sendable (ScriptedBackend.Request) -> ScriptedBackend.Reply = { request in
            switch (request.method, request.uri) {
            case ("POST", "/cms/forms/submit"): return .json(#"{"id": 7}"#)
            case ("POST", "/crm/leads/create"): return .json(#"{"error": "no"}"#, status: 400)
            case ("DELETE", "/cms/forms/7"):
                return deletes.wrappingAdd(1, ordering: .relaxed).oldValue == 0 ? .json("{}", status: 503) : .json("{}", status: 204)
            default: return .json("{}", status: 404)
            }
        }
        let yaml: (ScriptedBackend) -> String = { backend in
            """
            services:
              - {name: wagtail-cms, url: \(backend.url), base_path: /cms}
              - {name: django-crm, url: \(backend.url), base_path: /crm}
            workflows:
              - name: two-steps
                expose: {method: POST, path: /api/brain/two}
                steps:
                  - id: cms
                    call: {service: wagtail-cms, method: POST, path: /forms/submit}
                    retry: {attempts: 3, backoff_ms: 20, max_backoff_ms: 50}
                    compensate: {service: wagtail-cms, method: DELETE, path: "/forms/{{ steps.cms.body.id }}"}
                  - {id: crm, needs: [cms], call: {service: django-crm, method: POST, path: /leads/create}}
            """
        }
        try await Self.withContactFlow(script, yaml: yaml) { gateway, backend in
            let response = try await AdminAPITests.call(
                gateway, "POST", "/api/brain/two", body: "{}", headers: "Content-Type: application/json\r\n", token: TestTokens.user)
            #expect(response.status == 502, "\(response.text)")
            let steps = try #require(AdminAPITests.json(response)["steps"] as? [[String: Any]])
            #expect(steps.map { $0["state"] as? String ?? "" } == ["compensated", "failed"])
            let compensations = backend.requests.filter { $0.method == "DELETE" }
            #expect(compensations.count == 2)
            let runID = response.header("X-Brain-Run-ID") ?? ""
            #expect(compensations.allSatisfy { $0.header("Idempotency-Key") == "\(runID):cms:compensate" })
        }
    }

    @Test func anUnreachableAgentFallsBackAndTheRunSucceeds() async throws {
        let refusing = RefusingPort()
        try await Self.withContactFlow(Self.script(score: 99), yaml: { Self.yaml($0, agents: "http://127.0.0.1:\(refusing.port)") }) { gateway, backend in
            let response = try await Self.submit(gateway)
            #expect(response.status == 200, "\(response.text)")
            #expect(AdminAPITests.json(response) as NSDictionary == ["success": true, "lead_id": "L-1", "score": 50, "priority": "normal"] as NSDictionary)
            let run = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/runs/\(response.header("X-Brain-Run-ID") ?? "")", token: TestTokens.user))
            #expect((run["steps"] as? [[String: Any]])?.first?["state"] as? String == "fallback")
        }
        _ = refusing
    }

    @Test func theRunDeadlineAnswers504InAboutASecond() async throws {
        // CMS takes 8 s and its step may take 10 s: the answer must come from the run's 1 s deadline.
        try await Self.withContactFlow(Self.script(score: 90, cmsDelay: 8000), yaml: { Self.yaml($0, timeoutMs: 1000) }) { gateway, backend in
            let started = Date()
            let response = try await Self.submit(gateway)
            let elapsed = Date().timeIntervalSince(started)
            #expect(response.status == 504, "\(response.text)")
            #expect(elapsed >= 0.9 && elapsed < 4, "answered after \(elapsed) s")
            let body = AdminAPITests.json(response)
            #expect(body["error"] as? String == "workflow_timeout")
            let run = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/runs/\(response.header("X-Brain-Run-ID") ?? "")", token: TestTokens.user))
            #expect(run["status"] as? String == "timed_out")
            // Counted from the run's start: about the deadline (compensation included).
            let duration = try #require(run["duration_ms"] as? Int)
            #expect(duration >= 1000 && duration < 2500, "\(duration) ms")
            let steps = (run["steps"] as? [[String: Any]]) ?? []
            #expect(steps.first { $0["id"] as? String == "cms" }?["state"] as? String == "cancelled")
            // CRM, instant, had normally succeeded by then and is compensated (on a starved
            // machine it may still have been running, and is cancelled instead).
            let crm = steps.first { $0["id"] as? String == "crm" }?["state"] as? String
            #expect(crm == "compensated" || crm == "cancelled")
            #expect(backend.requests.filter { $0.method == "DELETE" }.map(\.uri) == (crm == "compensated" ? ["/crm/leads/L-1"] : []))
        }
    }

    /// The deadline has no timer of its own: a retry's wait longer than what is left of the run
    /// is cut to it, and the run answers 504 at about the deadline, not after the wait.
    @Test func theRunDeadlineCutsARetrysWait() async throws {
        let script: @Sendable (ScriptedBackend.Request) -> ScriptedBackend.Reply = { _ in
            var reply = ScriptedBackend.Reply.json(#"{"error": "busy"}"#, status: 503)
            reply.headers = [("Retry-After", "30")]
            return reply
        }
        let yaml: (ScriptedBackend) -> String = { backend in
            """
            services:
              - {name: django-crm, url: \(backend.url), base_path: /crm}
            workflows:
              - name: slow-retry
                expose: {method: POST, path: /api/brain/slow-retry}
                timeout_ms: 1000
                steps:
                  - id: crm
                    call: {service: django-crm, method: POST, path: /leads/create}
                    retry: {attempts: 5, backoff_ms: 5000, max_backoff_ms: 30000}
            """
        }
        try await Self.withContactFlow(script, yaml: yaml) { gateway, backend in
            let started = Date()
            let response = try await AdminAPITests.call(
                gateway, "POST", "/api/brain/slow-retry", body: "{}", headers: "Content-Type: application/json\r\n", token: TestTokens.user)
            let elapsed = Date().timeIntervalSince(started)
            #expect(response.status == 504, "\(response.text)")
            #expect(elapsed >= 0.9 && elapsed < 4, "answered after \(elapsed) s")
            #expect(backend.requests(matching: "/leads/create").count == 1)
            let steps = try #require(AdminAPITests.json(response)["steps"] as? [[String: Any]])
            #expect(steps.first?["state"] as? String == "cancelled")
        }
    }

    @Test func runsBelongToTheirTenant() async throws {
        try await Self.withContactFlow(Self.script(score: 10)) { gateway, _ in
            let response = try await Self.submit(gateway)
            let id = try #require(response.header("X-Brain-Run-ID"))
            let tenantB = TestTokens.make(sub: "user-b", tenant: TestTokens.tenantB)
            #expect(try await AdminAPITests.call(gateway, "GET", "/api/brain/runs/\(id)", token: tenantB).status == 404)
            #expect(try await AdminAPITests.call(gateway, "GET", "/api/brain/runs/\(id)", token: TestTokens.user).status == 200)
            #expect(try await AdminAPITests.call(gateway, "GET", "/api/brain/runs/\(id)", token: TestTokens.admin).status == 200)
            let own = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/runs?workflow=contact-submit", token: TestTokens.user))
            #expect((own["runs"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
            let other = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/runs", token: tenantB))
            #expect((other["runs"] as? [Any])?.isEmpty == true)
            #expect(try await AdminAPITests.call(gateway, "GET", "/api/brain/runs", token: "").status == 401)
        }
    }

    @Test func anIdempotencyKeyReplaysRefusesAnotherBodyAndReportsARunInProgress() async throws {
        try await Self.withContactFlow(Self.script(score: 90, delay: 0)) { gateway, backend in
            let first = try await Self.submit(gateway, headers: "Idempotency-Key: k-1\r\n")
            #expect(first.status == 200)
            let again = try await Self.submit(gateway, headers: "Idempotency-Key: k-1\r\n")
            #expect(again.status == 200 && again.header("Idempotent-Replayed") == "true")
            #expect(again.body == first.body && again.header("X-Brain-Run-ID") == first.header("X-Brain-Run-ID"))
            #expect(backend.requests(matching: "/agents/execute").count == 1)
            let other = try await Self.submit(gateway, #"{"name": "Bob", "email": "bob@example.com"}"#, headers: "Idempotency-Key: k-1\r\n")
            #expect(other.status == 422 && AdminAPITests.json(other)["error"] as? String == "idempotency_key_reused")
            // Another tenant's same key is another key.
            let tenantB = TestTokens.make(sub: "user-b", tenant: TestTokens.tenantB)
            #expect(try await Self.submit(gateway, headers: "Idempotency-Key: k-1\r\n", token: tenantB).header("Idempotent-Replayed") == nil)
            // While the first run with a key still runs: 409.
            backend.setReply(Self.script(score: 90, delay: 1500))
            let slow = try await Self.submit(gateway, headers: "Idempotency-Key: k-2\r\nPrefer: respond-async\r\n")
            #expect(slow.status == 202)
            let busy = try await Self.submit(gateway, headers: "Idempotency-Key: k-2\r\n")
            #expect(busy.status == 409 && AdminAPITests.json(busy)["error"] as? String == "run_in_progress", "\(busy.text)")
        }
    }

    @Test func respondAsyncAnswers202AndTheRunCanBeFollowed() async throws {
        try await Self.withContactFlow(Self.script(score: 85, delay: 200)) { gateway, _ in
            let response = try await Self.submit(gateway, headers: "Prefer: respond-async\r\n")
            #expect(response.status == 202)
            let id = try #require(AdminAPITests.json(response)["run_id"] as? String)
            #expect(response.header("Location") == "/api/brain/runs/\(id)")
            var status = ""
            for _ in 0..<50 where status != "succeeded" {
                try await Task.sleep(for: .milliseconds(100))
                status = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/runs/\(id)", token: TestTokens.user))["status"] as? String ?? ""
            }
            #expect(status == "succeeded")
            let run = AdminAPITests.json(try await AdminAPITests.call(gateway, "GET", "/api/brain/runs/\(id)", token: TestTokens.user))
            #expect((run["output"] as? NSDictionary) == ["success": true, "lead_id": "L-1", "score": 85, "priority": "high"] as NSDictionary)
        }
    }

    @Test func inputThatDoesNotFitIsRefusedWithItsField() async throws {
        try await Self.withContactFlow(Self.script(score: 85)) { gateway, backend in
            let missing = try await Self.submit(gateway, #"{"name": "Ada"}"#)
            #expect(missing.status == 422 && AdminAPITests.json(missing)["field"] as? String == "email")
            let wrong = try await Self.submit(gateway, #"{"name": "Ada", "email": "a@b", "score_hint": "high"}"#)
            #expect(wrong.status == 422 && AdminAPITests.json(wrong)["field"] as? String == "score_hint")
            let notJSON = try await Self.submit(gateway, "{name")
            #expect(notJSON.status == 422 && AdminAPITests.json(notJSON)["field"] as? String == "body")
            let unknown = try await AdminAPITests.call(gateway, "POST", "/api/brain/workflows/nope/runs", body: "{}", token: TestTokens.user)
            #expect(unknown.status == 404 && AdminAPITests.json(unknown)["error"] as? String == "workflow_not_found")
            #expect(try await Self.submit(gateway, token: "").status == 401)
            let get = try await AdminAPITests.call(gateway, "GET", "/api/brain/contact/submit", token: TestTokens.user)
            #expect(get.status == 405 && get.header("Allow") == "POST")
            #expect(backend.requests.isEmpty)
            // The same workflow by name.
            let byName = try await AdminAPITests.call(
                gateway, "POST", "/api/brain/workflows/contact-submit/runs", body: #"{"name": "Ada", "email": "a@b"}"#, token: TestTokens.user)
            #expect(byName.status == 200)
        }
    }

    @Test func graphQLListsStartsAndReadsRuns() async throws {
        try await Self.withContactFlow(Self.script(score: 95)) { gateway, _ in
            let started = try await GraphQLTests.graphQL(
                gateway, #"mutation($input: String) { startRun(workflow: "contact-submit", input: $input) { id status output steps { id state } } }"#,
                variables: ["input": #"{"name": "Ada", "email": "a@b"}"#], token: TestTokens.user)
            let run = try #require((started.body["data"] as? [String: Any])?["startRun"] as? [String: Any], "\(started.body)")
            #expect(run["status"] as? String == "succeeded")
            #expect((run["steps"] as? [[String: Any]])?.map { $0["state"] as? String ?? "" } == ["succeeded", "succeeded", "succeeded", "succeeded"])
            let output = try #require((run["output"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } as? [String: Any])
            #expect(output["priority"] as? String == "high")
            let id = try #require(run["id"] as? String)
            let read = try await GraphQLTests.graphQL(gateway, #"{ run(id: "\#(id)") { workflow status } runs(workflow: "contact-submit") { id } workflows { name expose_path steps } }"#, token: TestTokens.user)
            let data = try #require(read.body["data"] as? [String: Any], "\(read.body)")
            #expect((data["run"] as? [String: Any])?["status"] as? String == "succeeded")
            #expect((data["runs"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
            let workflows = try #require(data["workflows"] as? [[String: Any]])
            #expect(workflows.first?["expose_path"] as? String == "/api/brain/contact/submit")
            #expect(workflows.first?["steps"] as? [String] == ["score", "cms", "crm", "notify"])
            // Another tenant does not see the run; bad input names its field.
            let other = try await GraphQLTests.graphQL(gateway, #"{ run(id: "\#(id)") { id } }"#, token: TestTokens.make(sub: "b", tenant: TestTokens.tenantB))
            #expect((other.body["data"] as? [String: Any])?["run"] is NSNull)
            let bad = try await GraphQLTests.graphQL(gateway, #"mutation { startRun(workflow: "contact-submit", input: "{}") { id } }"#, token: TestTokens.user)
            let error = try #require((bad.body["errors"] as? [[String: Any]])?.first)
            #expect((error["extensions"] as? [String: Any])?["field"] as? String == "input.name", "\(bad.body)")
        }
    }

    @Test func theSeedsTiersDecideTheCrew() {
        let router = AgentRouter(settings: AgentSettings())
        #expect(router.pattern(for: "facebook") == .fourAgent && router.pattern(for: "facebook").agents == 4)
        #expect(router.pattern(for: "instagram").agents == 3)
        #expect(router.pattern(for: "twitter").agents == 2)
        #expect(router.pattern(for: "some-other-thing") == .singleAgent && router.pattern(for: "x").agents == 1)
        let payload = router.payload(name: "facebook", action: "post", data: .object([:]), tenant: nil, requestID: "r")
        #expect(payload["integration"] == .string("facebook") && payload["agent"] == .null && payload["pattern"] == .string("four_agent"))
    }
}
