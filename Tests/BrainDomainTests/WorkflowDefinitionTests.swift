import Testing

@testable import BrainDomain

/// Workflow definitions are checked whole when they are defined.
@Suite struct WorkflowDefinitionTests {
    static func call(_ service: String, _ method: HttpMethod = .post, path: String = "/x", body: JSONValue? = nil) throws -> WorkflowStep.Action {
        .call(ServiceCall(service: try ServiceName(service), method: method, path: try Template.parse(path), body: try body.map { try TemplateValue.parse($0) }))
    }

    /// The contact flow: score → CMS and CRM → notify when the score is high.
    static func contact() throws -> [WorkflowStep] {
        [
            WorkflowStep(id: "score", action: .agent(name: .constant("lead-scoring-agent"), action: "calculate_score", with: try TemplateValue.parse(.string("{{ input }}"))),
                         fallback: .object(["score": .number(50)])),
            WorkflowStep(id: "cms", action: try call("wagtail-cms", body: .string("{{ input }}")), needs: ["score"]),
            WorkflowStep(id: "crm", action: try call("django-crm", body: .object(["score": .string("{{ steps.score.body.score }}")])), needs: ["score"],
                         retry: .init(attempts: 3),
                         compensate: ServiceCall(service: try ServiceName("django-crm"), method: .delete, path: try Template.parse("/leads/{{ steps.crm.body.id }}"))),
            WorkflowStep(id: "notify", action: try call("notification", body: .string("{{ steps.crm.body }}")), needs: ["crm"],
                         when: try Expression.parse("steps.score.body.score > 80"), optional: true),
        ]
    }

    @Test func theContactFlowIsAValidDefinition() throws {
        let workflow = try WorkflowDefinition(name: ServiceName("contact-submit"), timeoutMilliseconds: 15_000, steps: Self.contact())
        #expect(workflow.steps.map(\.id) == ["score", "cms", "crm", "notify"])
        // A body template keeps the score a number.
        guard case .call(let crm) = workflow.steps[2].action else { Issue.record("not a call"); return }
        let scope: JSONValue = .object(["steps": .object(["score": .object(["body": .object(["score": .number(81)])])])])
        #expect(crm.body?.evaluate(in: scope) == .object(["score": .number(81)]))
    }

    static func refusal(_ steps: [WorkflowStep]) -> String? {
        do {
            _ = try WorkflowDefinition(name: try ServiceName("w"), steps: steps)
            return nil
        } catch let error as ServiceRoute.InvariantViolation {
            return error.field
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func mistakesNameTheirField() throws {
        var steps = try Self.contact()
        steps[3].needs = ["crm", "nope"]
        #expect(Self.refusal(steps) == "steps[3].needs")

        steps = try Self.contact()
        steps[0].needs = ["notify"]  // score → notify → crm → score
        #expect(Self.refusal(steps) == "steps[0].needs")

        steps = try Self.contact()
        steps[1].id = "Bad-Id"
        #expect(Self.refusal(steps) == "steps[1].id")

        steps = try Self.contact()
        steps[2].id = "cms"
        #expect(Self.refusal(steps) == "steps[2].id")

        steps = try Self.contact()
        steps[3].when = try Expression.parse("steps.ghost.body.x > 1")
        #expect(Self.refusal(steps) == "steps[3].when")

        steps = try Self.contact()
        steps[2].retry.attempts = 0
        #expect(Self.refusal(steps) == "steps[2].retry.attempts")

        steps = try Self.contact()
        steps[1].action = try Self.call("wagtail-cms", .other("FETCH"))
        #expect(Self.refusal(steps) == "steps[1].method")

        steps = try Self.contact()
        steps[1].action = try Self.call("wagtail-cms", path: "/pages/{{ steps.nobody.body.id }}")
        #expect(Self.refusal(steps) == "steps[1].call.path")

        #expect(Self.refusal([]) == "steps")
        let selfLoop = [WorkflowStep(id: "a", action: try Self.call("svc"), needs: ["a"])]
        #expect(Self.refusal(selfLoop) == "steps[0].needs")
    }
}
