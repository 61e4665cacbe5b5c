import BrainDomain

/// A run record as stored: one JSON document per run (its steps inside), so a transition is
/// one row write and a resumed run reads exactly what was last written.
public enum WorkflowRunCodec {
    public struct DecodingError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The run's document, written field by field (no intermediate dictionaries); absent
    /// optionals are left out, as the decoder reads them as null.
    public static func encode(_ run: WorkflowRun) -> String {
        var w = JSONWriter(capacity: 2048)
        var first = true
        w.raw("{")
        w.member("id", first: &first); w.string(run.id)
        w.member("workflow", first: &first); w.string(run.workflow.value)
        w.member("status", first: &first); w.string(run.status.rawValue)
        w.member("started_at", first: &first); w.number(run.startedAt)
        w.member("input", first: &first); w.write(run.input, sortedKeys: false)
        w.member("caller", first: &first); w.write(run.caller, sortedKeys: false)
        if let tenant = run.workflowTenant { w.member("workflow_tenant", first: &first); w.string(tenant.value) }
        if let tenant = run.tenant { w.member("tenant_id", first: &first); w.string(tenant.value) }
        if let finishedAt = run.finishedAt { w.member("finished_at", first: &first); w.number(finishedAt) }
        if let output = run.output { w.member("output", first: &first); w.write(output, sortedKeys: false) }
        if let status = run.responseStatus { w.member("response_status", first: &first); w.integer(Int64(status)) }
        if let error = run.error { w.member("error", first: &first); w.string(error) }
        if let step = run.failedStep { w.member("failed_step", first: &first); w.string(step) }
        if let ending = run.ending { w.member("ending", first: &first); w.string(ending.rawValue) }
        if let traceparent = run.traceparent { w.member("traceparent", first: &first); w.string(traceparent) }
        if let definition = run.adHocDefinition { w.member("ad_hoc_definition", first: &first); w.string(definition) }
        w.member("steps", first: &first)
        w.raw("[")
        for (i, step) in run.steps.enumerated() {
            if i > 0 { w.raw(",") }
            encode(step, into: &w)
        }
        w.raw("]}")
        return w.text
    }

    private static func encode(_ step: StepRun, into w: inout JSONWriter) {
        var first = true
        w.raw("{")
        w.member("id", first: &first); w.string(step.id)
        w.member("state", first: &first); w.string(step.state.rawValue)
        w.member("attempts", first: &first); w.integer(Int64(step.attempts))
        if let status = step.status { w.member("status", first: &first); w.integer(Int64(status)) }
        if let body = step.body { w.member("body", first: &first); w.write(body, sortedKeys: false) }
        if let startedAt = step.startedAt { w.member("started_at", first: &first); w.number(startedAt) }
        if let finishedAt = step.finishedAt { w.member("finished_at", first: &first); w.number(finishedAt) }
        if let error = step.error { w.member("error", first: &first); w.string(error) }
        if let completion = step.completion { w.member("completion", first: &first); w.integer(Int64(completion)) }
        w.raw("}")
    }

    public static func decode(_ text: String) throws -> WorkflowRun {
        let value = try JSONParser.parse(text)
        guard case .string(let id) = value["id"], case .string(let workflowText) = value["workflow"],
              let workflow = try? ServiceName(workflowText), case .string(let statusText) = value["status"],
              let status = WorkflowRun.Status(rawValue: statusText), case .number(let startedAt) = value["started_at"],
              case .array(let stepValues) = value["steps"]
        else { throw DecodingError(description: "a stored run is malformed") }
        var run = WorkflowRun(
            id: id, workflow: workflow, workflowTenant: tenant(value["workflow_tenant"]), tenant: tenant(value["tenant_id"]),
            startedAt: startedAt, input: value["input"], caller: value["caller"], traceparent: string(value["traceparent"]),
            steps: try stepValues.map(decodeStep))
        run.status = status
        run.finishedAt = number(value["finished_at"])
        run.output = value["output"] == .null ? nil : value["output"]
        run.responseStatus = number(value["response_status"]).map { Int($0) }
        run.error = string(value["error"])
        run.failedStep = string(value["failed_step"])
        run.ending = string(value["ending"]).flatMap(WorkflowRun.Status.init(rawValue:))
        run.adHocDefinition = string(value["ad_hoc_definition"])
        return run
    }

    private static func decodeStep(_ value: JSONValue) throws -> StepRun {
        guard case .string(let id) = value["id"], case .string(let stateText) = value["state"], let state = StepRun.State(rawValue: stateText) else {
            throw DecodingError(description: "a stored step is malformed")
        }
        var step = StepRun(id: id)
        step.state = state
        step.attempts = number(value["attempts"]).map { Int($0) } ?? 0
        step.status = number(value["status"]).map { Int($0) }
        step.body = value["body"] == .null ? nil : value["body"]
        step.startedAt = number(value["started_at"])
        step.finishedAt = number(value["finished_at"])
        step.error = string(value["error"])
        step.completion = number(value["completion"]).map { Int($0) }
        return step
    }

    private static func string(_ v: JSONValue) -> String? { if case .string(let s) = v { return s }; return nil }
    private static func number(_ v: JSONValue) -> Double? { if case .number(let n) = v { return n }; return nil }
    private static func tenant(_ v: JSONValue) -> TenantID? { string(v).flatMap { try? TenantID($0) } }
}
