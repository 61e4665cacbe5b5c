import Testing

@testable import BrainApplication
@testable import BrainDomain

/// The run state machine, driven by hand: no sockets, no clock, no tasks.
@Suite struct WorkflowRunMachineTests {
    static func call(_ service: String, _ method: HttpMethod = .post, path: String = "/x", body: JSONValue? = nil) throws -> WorkflowStep.Action {
        .call(ServiceCall(service: try ServiceName(service), method: method, path: try Template.parse(path), body: try body.map { try TemplateValue.parse($0) }))
    }

    /// The contact flow: score → CMS and CRM → notify when the score is high.
    static func contact(crmAttempts: Int = 3, timeoutMilliseconds: Int = 15_000) throws -> WorkflowDefinition {
        let steps = [
            WorkflowStep(id: "score", action: .agent(name: .constant("lead-scoring-agent"), action: "calculate_score", with: try TemplateValue.parse(.string("{{ input }}"))),
                         fallback: .object(["score": .number(50)])),
            WorkflowStep(id: "cms", action: try call("wagtail-cms", body: .string("{{ input }}")), needs: ["score"],
                         compensate: ServiceCall(service: try ServiceName("wagtail-cms"), method: .delete, path: try Template.parse("/forms/{{ steps.cms.body.id }}"))),
            WorkflowStep(id: "crm", action: try call("django-crm", body: .object(["score": .string("{{ steps.score.body.score }}")])), needs: ["score"],
                         retry: .init(attempts: crmAttempts, backoffMilliseconds: 100, maxBackoffMilliseconds: 2000),
                         compensate: ServiceCall(service: try ServiceName("django-crm"), method: .delete, path: try Template.parse("/leads/{{ steps.crm.body.id }}"))),
            WorkflowStep(id: "notify", action: try call("notification", body: .string("{{ steps.crm.body }}")), needs: ["crm"],
                         when: try Expression.parse("steps.score.body.score > 80"), optional: true),
        ]
        let response = try WorkflowInterface.Response(status: 200, body: try TemplateValue.parse(.object([
            "lead_id": .string("{{ steps.crm.body.id }}"), "priority": .string("{{ steps.score.body.score > 80 ? 'high' : 'normal' }}"),
        ])))
        return try WorkflowDefinition(
            name: ServiceName("contact-submit"), timeoutMilliseconds: timeoutMilliseconds, steps: steps, interface: .init(response: response))
    }

    static func machine(_ definition: WorkflowDefinition, input: JSONValue = .object(["name": .string("Ada")])) -> WorkflowRunMachine {
        WorkflowRunMachine(
            definition: definition,
            run: WorkflowRunMachine.newRun(of: definition, id: "r1", tenant: nil, input: input, caller: .object(["sub": .string("u")]), traceparent: nil, now: 100))
    }

    static func calls(_ actions: [WorkflowRunMachine.Action]) -> [WorkflowRunMachine.Call] {
        actions.compactMap { if case .call(let c) = $0 { return c }; return nil }
    }

    static func ok(_ body: JSONValue) -> WorkflowRunMachine.Outcome { .answered(status: 200, body: body) }

    @Test func aHighScoreRunsCMSAndCRMTogetherThenNotify() throws {
        var m = Self.machine(try Self.contact())
        let first = Self.calls(m.handle(.start(now: 100)))
        #expect(first.map(\.step) == [0])
        #expect(first[0].request == .agent(name: "lead-scoring-agent", action: "calculate_score", data: .object(["name": .string("Ada")])))
        #expect(first[0].idempotencyKey == "r1:score")
        let both = Self.calls(m.handle(.answered(step: 0, attempt: 1, Self.ok(.object(["score": .number(81)])), now: 100.1)))
        #expect(both.map(\.step) == [1, 2])
        guard case .service(_, _, _, _, let crmBody) = both[1].request else { Issue.record("not a service call"); return }
        #expect(crmBody == .object(["score": .number(81)]))
        #expect(Self.calls(m.handle(.answered(step: 1, attempt: 1, Self.ok(.object(["id": .number(7)])), now: 100.2))).isEmpty)
        let notify = Self.calls(m.handle(.answered(step: 2, attempt: 1, Self.ok(.object(["id": .string("L1")])), now: 100.3)))
        #expect(notify.map(\.step) == [3])
        guard case .service(_, _, _, _, let notifyBody) = notify[0].request else { Issue.record("not a service call"); return }
        #expect(notifyBody == .object(["id": .string("L1")]))
        let end = m.handle(.answered(step: 3, attempt: 1, .answered(status: 202, body: .null), now: 100.4))
        #expect(end == [.finished])
        #expect(m.run.status == .succeeded)
        #expect(m.run.output == .object(["lead_id": .string("L1"), "priority": .string("high")]))
        #expect(m.run.steps.map(\.state) == [.succeeded, .succeeded, .succeeded, .succeeded])
        #expect(m.run.steps.map(\.completion) == [1, 2, 3, 4])
    }

    @Test func aScoreOf80SkipsNotify() throws {
        var m = Self.machine(try Self.contact())
        _ = m.handle(.start(now: 100))
        _ = m.handle(.answered(step: 0, attempt: 1, Self.ok(.object(["score": .number(80)])), now: 100))
        _ = m.handle(.answered(step: 1, attempt: 1, Self.ok(.null), now: 100))
        let end = m.handle(.answered(step: 2, attempt: 1, Self.ok(.object(["id": .string("L1")])), now: 100))
        #expect(end == [.finished])
        #expect(m.run.steps[3].state == .skipped)
        #expect(m.run.output?["priority"] == .string("normal"))
    }

    @Test func aFailedAgentUsesItsFallback() throws {
        var m = Self.machine(try Self.contact())
        _ = m.handle(.start(now: 100))
        let next = Self.calls(m.handle(.answered(step: 0, attempt: 1, .failed(reason: "connection refused", retryable: true), now: 100)))
        #expect(m.run.steps[0].state == .fallback)
        #expect(m.run.steps[0].body == .object(["score": .number(50)]))
        #expect(next.map(\.step) == [1, 2])
    }

    @Test func retriesBackOffAndHonourRetryAfterUpToTheCap() throws {
        var m = Self.machine(try Self.contact())
        _ = m.handle(.start(now: 100))
        _ = m.handle(.answered(step: 0, attempt: 1, Self.ok(.object(["score": .number(90)])), now: 100))
        let first = m.handle(.answered(step: 2, attempt: 1, .answered(status: 503, body: .null), now: 100))
        #expect(first == [.retry(step: 2, attempt: 2, afterSeconds: 0.1)])
        // A late duplicate answer for attempt 1 changes nothing.
        #expect(m.handle(.answered(step: 2, attempt: 1, Self.ok(.null), now: 100.05)).isEmpty)
        let again = Self.calls(m.handle(.retryDue(step: 2, attempt: 2, now: 100.1)))
        #expect(again.map(\.attempt) == [2])
        #expect(again[0].idempotencyKey == "r1:crm")
        let second = m.handle(.answered(step: 2, attempt: 2, .answered(status: 429, body: .null, retryAfterSeconds: 30), now: 100.2))
        #expect(second == [.retry(step: 2, attempt: 3, afterSeconds: 2)])
        #expect(WorkflowRunMachine.backoff(.init(attempts: 5, backoffMilliseconds: 100, maxBackoffMilliseconds: 2000), afterAttempt: 2, retryAfter: nil) == 0.2)
        #expect(WorkflowRunMachine.backoff(.init(attempts: 5, backoffMilliseconds: 100, maxBackoffMilliseconds: 2000), afterAttempt: 2, retryAfter: 1) == 1)
    }

    @Test func aRequiredStepThatKeepsFailingCancelsAndCompensatesInReverseOrder() throws {
        var m = Self.machine(try Self.contact(crmAttempts: 1))
        _ = m.handle(.start(now: 100))
        _ = m.handle(.answered(step: 0, attempt: 1, Self.ok(.object(["score": .number(90)])), now: 100))
        _ = m.handle(.answered(step: 1, attempt: 1, Self.ok(.object(["id": .number(7)])), now: 100.1))
        let actions = m.handle(.answered(step: 2, attempt: 1, .answered(status: 500, body: .object(["error": .string("x")])), now: 100.2))
        // 500 is not retried; CMS (succeeded) is compensated; notify never starts.
        guard case .compensate(let compensation)? = actions.first else { Issue.record("no compensation: \(actions)"); return }
        #expect(compensation.request == .service(service: try ServiceName("wagtail-cms"), method: .delete, path: "/forms/7", headers: [:], body: nil))
        #expect(compensation.idempotencyKey == "r1:cms:compensate")
        #expect(m.run.steps.map(\.state) == [.succeeded, .succeeded, .failed, .cancelled])
        #expect(m.handle(.compensated(step: 1, .answered(status: 204, body: .null), now: 100.3)) == [.finished])
        #expect(m.run.status == .failed)
        #expect(m.run.failedStep == "crm")
        #expect(m.run.responseStatus == 502)
        #expect(m.run.steps[1].state == .compensated)
    }

    @Test func compensationsRunLatestCompletionFirst() throws {
        let steps = [
            WorkflowStep(id: "a", action: try Self.call("svc"), compensate: ServiceCall(service: try ServiceName("svc"), method: .delete, path: try Template.parse("/a"))),
            WorkflowStep(id: "b", action: try Self.call("svc"), compensate: ServiceCall(service: try ServiceName("svc"), method: .delete, path: try Template.parse("/b"))),
            WorkflowStep(id: "c", action: try Self.call("svc"), needs: ["a", "b"]),
        ]
        var m = Self.machine(try WorkflowDefinition(name: ServiceName("w"), steps: steps))
        #expect(Self.calls(m.handle(.start(now: 100))).map(\.step) == [0, 1])
        _ = m.handle(.answered(step: 1, attempt: 1, Self.ok(.null), now: 100.1))
        _ = m.handle(.answered(step: 0, attempt: 1, Self.ok(.null), now: 100.2))
        let first = m.handle(.answered(step: 2, attempt: 1, .failed(reason: "connection refused", retryable: true), now: 100.3))
        #expect(first.map { if case .compensate(let c) = $0 { return c.step }; return -1 } == [0])
        let second = m.handle(.compensated(step: 0, .failed(reason: "timed out", retryable: true), now: 100.4))
        #expect(second.map { if case .compensate(let c) = $0 { return c.step }; return -1 } == [1])
        #expect(m.run.steps[0].state == .succeeded)
        #expect(m.run.steps[0].error == "its compensation failed: timed out")
        #expect(m.handle(.compensated(step: 1, Self.ok(.null), now: 100.5)) == [.finished])
    }

    @Test func aCompensationIsRetriedLikeItsStepWithTheSameKey() throws {
        let retry = WorkflowStep.Retry(attempts: 3, backoffMilliseconds: 100, maxBackoffMilliseconds: 2000)
        let steps = [
            WorkflowStep(
                id: "a", action: try Self.call("svc"), retry: retry,
                compensate: ServiceCall(service: try ServiceName("svc"), method: .delete, path: try Template.parse("/a"))),
            WorkflowStep(id: "b", action: try Self.call("svc"), needs: ["a"]),
        ]
        var m = Self.machine(try WorkflowDefinition(name: ServiceName("w"), steps: steps))
        _ = m.handle(.start(now: 100))
        _ = m.handle(.answered(step: 0, attempt: 1, Self.ok(.null), now: 100.1))
        let first = m.handle(.answered(step: 1, attempt: 1, .answered(status: 400, body: .null), now: 100.2))
        guard case .compensate(let call)? = first.last else { Issue.record("no compensation: \(first)"); return }
        #expect(call.attempt == 1 && call.idempotencyKey == "r1:a:compensate")
        // Unreachable, then 503 with Retry-After: retried after the step's backoff, then the header's wait.
        #expect(m.handle(.compensated(step: 0, .failed(reason: "connection refused", retryable: true), now: 100.3))
            == [.retry(step: 0, attempt: 2, afterSeconds: 0.1)])
        #expect(m.handle(.retryDue(step: 0, attempt: 1, now: 100.4)).isEmpty)  // a stale timer
        guard case .compensate(let second)? = m.handle(.retryDue(step: 0, attempt: 2, now: 100.4)).first else { Issue.record("no retry"); return }
        #expect(second.attempt == 2 && second.idempotencyKey == call.idempotencyKey)
        #expect(m.handle(.compensated(step: 0, .answered(status: 503, body: .null, retryAfterSeconds: 1.5), now: 100.5))
            == [.retry(step: 0, attempt: 3, afterSeconds: 1.5)])
        _ = m.handle(.retryDue(step: 0, attempt: 3, now: 102))
        // The third attempt fails too: that is the last (attempts: 3); the run ends failed.
        #expect(m.handle(.compensated(step: 0, .answered(status: 503, body: .null), now: 102.1)) == [.finished])
        #expect(m.run.status == .failed && m.run.steps[0].state == .succeeded)
        #expect(m.run.steps[0].error == "its compensation answered 503 (after 3 attempts)")
    }

    @Test func aCompensationThatIsRefusedIsNotRetried() throws {
        let steps = [
            WorkflowStep(
                id: "a", action: try Self.call("svc"), retry: .init(attempts: 3, backoffMilliseconds: 100, maxBackoffMilliseconds: 2000),
                compensate: ServiceCall(service: try ServiceName("svc"), method: .delete, path: try Template.parse("/a"))),
            WorkflowStep(id: "b", action: try Self.call("svc"), needs: ["a"]),
        ]
        var m = Self.machine(try WorkflowDefinition(name: ServiceName("w"), steps: steps))
        _ = m.handle(.start(now: 100))
        _ = m.handle(.answered(step: 0, attempt: 1, Self.ok(.null), now: 100.1))
        _ = m.handle(.answered(step: 1, attempt: 1, .answered(status: 400, body: .null), now: 100.2))
        #expect(m.handle(.compensated(step: 0, .answered(status: 404, body: .null), now: 100.3)) == [.finished])
        #expect(m.run.steps[0].error == "its compensation answered 404")
    }

    @Test func theRunDeadlineCancelsWhatRunsAndAnswersTimedOut() throws {
        var m = Self.machine(try Self.contact(timeoutMilliseconds: 1000))
        _ = m.handle(.start(now: 100))
        let both = Self.calls(m.handle(.answered(step: 0, attempt: 1, Self.ok(.object(["score": .number(90)])), now: 100.1)))
        // Each step's timeout is capped by what is left of the run.
        #expect(both.allSatisfy { abs($0.timeoutSeconds - 0.9) < 1e-9 })
        _ = m.handle(.answered(step: 2, attempt: 1, Self.ok(.object(["id": .number(3)])), now: 100.2))
        // CMS never answers: its timer, capped by the deadline, is what ends the run.
        let actions = m.handle(.answered(step: 1, attempt: 1, .failed(reason: "no answer within 900 ms", retryable: true), now: 101))
        #expect(actions.first == .cancel(step: 1))
        guard case .compensate(let compensation)? = actions.last else { Issue.record("no compensation"); return }
        #expect(compensation.step == 2)
        #expect(m.handle(.answered(step: 1, attempt: 1, Self.ok(.null), now: 101.1)).isEmpty)  // late: ignored
        #expect(m.handle(.compensated(step: 2, Self.ok(.null), now: 101.1)) == [.finished])
        #expect(m.run.status == .timedOut)
        #expect(m.run.responseStatus == 504)
        #expect(m.run.steps.map(\.state) == [.succeeded, .cancelled, .compensated, .cancelled])
    }

    @Test func aRetrysWaitEndsByTheDeadlineAndThenTimesTheRunOut() throws {
        var m = Self.machine(try Self.contact(timeoutMilliseconds: 1000))
        _ = m.handle(.start(now: 100))
        _ = m.handle(.answered(step: 0, attempt: 1, Self.ok(.object(["score": .number(90)])), now: 100.1))
        // CRM asks for 30 s; 0.3 s of the run are left, so that is the wait.
        let retry = m.handle(.answered(step: 2, attempt: 1, .answered(status: 503, body: .null, retryAfterSeconds: 30), now: 100.7))
        guard case .retry(2, 2, let after)? = retry.first else { Issue.record("no retry: \(retry)"); return }
        #expect(abs(after - 0.3) < 1e-9)
        let actions = m.handle(.retryDue(step: 2, attempt: 2, now: 100.995))
        #expect(!actions.contains { if case .call = $0 { return true }; return false })
        #expect(m.run.status == .timedOut || m.run.ending == .timedOut)
        #expect(m.run.steps[1].state == .cancelled && m.run.steps[2].state == .cancelled)
    }

    @Test func aStepTimingOutWithTheRunsDeadlineTimesTheRunOut() throws {
        var m = Self.machine(try Self.contact(timeoutMilliseconds: 1000))
        _ = m.handle(.start(now: 100))
        _ = m.handle(.answered(step: 0, attempt: 1, Self.ok(.object(["score": .number(90)])), now: 100.1))
        // CMS's own timer (capped at the 0.9 s left) fires just as the run's deadline does.
        let actions = m.handle(.answered(step: 1, attempt: 1, .failed(reason: "no answer within 900 ms", retryable: true), now: 100.999))
        #expect(actions.contains(.cancel(step: 2)) && actions.last == .finished)
        #expect(m.run.status == .timedOut && m.run.responseStatus == 504)
        #expect(m.run.steps[1].state == .cancelled)
    }

    @Test func anOptionalFailureSkipsTheStepsThatNeedIt() throws {
        let steps = [
            WorkflowStep(id: "a", action: try Self.call("svc"), optional: true),
            WorkflowStep(id: "b", action: try Self.call("svc"), needs: ["a"]),
        ]
        var m = Self.machine(try WorkflowDefinition(name: ServiceName("w"), steps: steps))
        _ = m.handle(.start(now: 100))
        #expect(m.handle(.answered(step: 0, attempt: 1, .answered(status: 404, body: .null), now: 100)) == [.finished])
        #expect(m.run.steps.map(\.state) == [.failed, .skipped])
        #expect(m.run.status == .succeeded)
        #expect(m.run.output == .object(["run_id": .string("r1"), "status": .string("succeeded"), "output": .object([:])]))
    }

    @Test func aResumedRunCallsOnlyWhatDidNotFinishWithTheSameKeys() throws {
        var m = Self.machine(try Self.contact())
        _ = m.handle(.start(now: 100))
        _ = m.handle(.answered(step: 0, attempt: 1, Self.ok(.object(["score": .number(90)])), now: 100))
        _ = m.handle(.answered(step: 1, attempt: 1, Self.ok(.object(["id": .number(1)])), now: 100.1))
        // The process dies here: CRM was in flight. What was stored is all a new process has.
        var resumed = WorkflowRunMachine(definition: m.definition, run: m.run)
        let calls = Self.calls(resumed.handle(.start(now: 105)))
        #expect(calls.map(\.step) == [2])
        #expect(calls[0].idempotencyKey == "r1:crm")
        #expect(calls[0].attempt == 2)
        #expect(abs(calls[0].timeoutSeconds - 10) < 1e-9)
        // The deadline counts from the run's start, not from the restart.
        var late = WorkflowRunMachine(definition: m.definition, run: m.run)
        let actions = late.handle(.start(now: 116))
        #expect(late.run.status == .running && late.run.ending == .timedOut)
        guard case .compensate(let c)? = actions.first else { Issue.record("no compensation"); return }
        #expect(c.step == 1)
    }

    @Test func pathValuesFromDataCannotClimbOrAddAQuery() throws {
        let template = try Template.parse("/leads/{{ input.id }}")
        #expect(template.evaluatePath(in: .object(["input": .object(["id": .string("../admin?x=1")])])) == "/leads/..%2Fadmin%3Fx%3D1")
        #expect(template.evaluatePath(in: .object(["input": .object(["id": .string("..")])])) == "/leads/%2E%2E")
        #expect(template.evaluatePath(in: .object(["input": .object(["id": .number(42)])])) == "/leads/42")
    }
}
