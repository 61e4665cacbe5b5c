import Testing

@testable import BrainDomain

/// Workflow expressions and templates: parsed once, evaluated without parsing, hostile input refused.
@Suite struct ExpressionTests {
    static let scope: JSONValue = .object([
        "input": .object(["name": .string("Ada"), "email": .string("ada@example.com"), "tags": .array([.string("a"), .string("b")])]),
        "steps": .object([
            "score": .object(["status": .number(200), "state": .string("succeeded"), "body": .object(["score": .number(81)])]),
            "crm": .object(["status": .number(201), "body": .object(["id": .string("L-7")])]),
        ]),
        "run": .object(["id": .string("run-1"), "tenant_id": .string("t")]),
        "caller": .object(["sub": .string("user-1")]),
    ])

    static func value(_ text: String) throws -> JSONValue { try Expression.parse(text).evaluate(in: scope) }

    @Test func pathsLiteralsAndMissingValues() throws {
        #expect(try Self.value("input.name") == .string("Ada"))
        #expect(try Self.value("steps.score.body.score") == .number(81))
        #expect(try Self.value("input.tags[1]") == .string("b"))
        #expect(try Self.value("input.tags[9]") == .null)
        #expect(try Self.value("steps.nope.body.x") == .null)
        #expect(try Self.value("run.id") == .string("run-1"))
        #expect(try Self.value("caller.sub") == .string("user-1"))
        #expect(try Self.value("'it\\'s'") == .string("it's"))
    }

    @Test func operatorsFollowTheirPrecedenceAndNullRules() throws {
        #expect(try Self.value("steps.score.body.score > 80") == .bool(true))
        #expect(try Self.value("steps.score.body.score > 81") == .bool(false))
        #expect(try Self.value("steps.missing.body.score > 0") == .bool(false))
        #expect(try Self.value("steps.missing.body.score < 0") == .bool(false))
        #expect(try Self.value("steps.missing.body.score == null") == .bool(true))
        #expect(try Self.value("1 + 2 == 3 && !false") == .bool(true))
        #expect(try Self.value("false || 1 + 1 >= 2") == .bool(true))
        #expect(try Self.value("'lead-' + steps.crm.body.id") == .string("lead-L-7"))
        #expect(try Self.value("steps.score.body.score > 80 ? 'high' : 'normal'") == .string("high"))
        #expect(try Self.value("(1 + 2) + 3") == .number(6))
        #expect(try Self.value("steps.score.state == \"succeeded\"") == .bool(true))
        #expect(try Self.value("'a' < 'b'") == .bool(true))
        #expect(try Self.value("1 < 'b'") == .bool(false))
        #expect(try Self.value("true ? 1 : 2 ? 3 : 4") == .number(1))
    }

    @Test(arguments: [
        "", "input.", "1 +", "(1", "1)", "input[x]", "input[-1]", "foo.bar", "1 2", "'open", "input.a ? 1", "3 - 1", "a == = b",
        "'x'.y", "1.2.3", "input[1.5]", "'a' 'b'",
    ])
    func mistakesAreRefusedWithAnOffset(_ text: String) {
        #expect(throws: Expression.ParseError.self) { try Expression.parse(text) }
    }

    @Test func hostileInputIsRefusedNotCrashed() {
        let deep = String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000)
        #expect(throws: Expression.ParseError.self) { try Expression.parse(deep, limits: .init(maxLength: 1 << 20)) }
        let nots = String(repeating: "!", count: 50_000) + "true"
        #expect(throws: Expression.ParseError.self) { try Expression.parse(nots, limits: .init(maxLength: 1 << 20)) }
        let ternaries = String(repeating: "true ? ", count: 40) + "1" + String(repeating: " : 2", count: 40)
        #expect(throws: Expression.ParseError.self) { try Expression.parse(ternaries) }
        #expect(throws: Expression.ParseError.self) { try Expression.parse("'" + String(repeating: "x", count: 5000) + "'", limits: .init(maxLength: 1 << 20)) }
        #expect(throws: Expression.ParseError.self) { try Expression.parse(String(repeating: "9", count: 400)) }
        #expect(throws: Expression.ParseError.self) { try Expression.parse(String(repeating: "1 + ", count: 2000) + "1") }
        #expect(throws: Expression.ParseError.self) { try Expression.parse("input" + String(repeating: ".a", count: 100)) }
        // Within the bounds, depth is fine.
        #expect(throws: Never.self) { try Expression.parse(String(repeating: "(", count: 30) + "1" + String(repeating: ")", count: 30)) }
    }

    @Test func stepReferencesAreListedForDefinitionChecks() throws {
        let e = try Expression.parse("steps.score.body.score > 80 && steps.crm.status == 201 || input.x")
        #expect(e.referencedSteps == ["score", "crm"])
    }
}

@Suite struct TemplateTests {
    @Test func aWholeExpressionKeepsItsJSONValue() throws {
        #expect(try Template.parse("{{ steps.score.body.score }}").evaluate(in: ExpressionTests.scope) == .number(81))
        #expect(try Template.parse("  {{input}} ").evaluate(in: ExpressionTests.scope) == ExpressionTests.scope["input"])
    }

    @Test func textAroundExpressionsInterpolates() throws {
        let t = try Template.parse("/leads/{{ steps.crm.body.id }}?score={{ steps.score.body.score }}&x={{ steps.none }}")
        #expect(t.evaluate(in: ExpressionTests.scope) == .string("/leads/L-7?score=81&x="))
        #expect(try Template.parse("plain").evaluate(in: ExpressionTests.scope) == .string("plain"))
        #expect(try Template.parse("{{ '}}' }}").evaluate(in: ExpressionTests.scope) == .string("}}"))
        #expect(t.referencedSteps == ["crm", "score", "none"])
    }

    @Test(arguments: ["{{ input", "a {{ }} b", "{{ 1 + }}", "x {{ nope }}"])
    func badTemplatesAreRefused(_ text: String) {
        #expect(throws: Expression.ParseError.self) { try Template.parse(text) }
    }

    @Test func tooManyExpressionsAreRefused() {
        #expect(throws: Expression.ParseError.self) { try Template.parse(String(repeating: "{{ 1 }}", count: 65)) }
    }
}
