import BrainDomain

/// A run record as stored: one JSON document per run (its steps inside), so a transition is
/// one row write and a resumed run reads exactly what was last written.
public enum WorkflowRunCodec {
    public struct DecodingError: Error, CustomStringConvertible {
        public let description: String
    }

    public static func encode(_ run: WorkflowRun) -> String {
        var object: [String: JSONValue] = [
            "id": .string(run.id), "workflow": .string(run.workflow.value), "status": .string(run.status.rawValue),
            "started_at": .number(run.startedAt), "input": run.input, "caller": run.caller,
            "steps": .array(run.steps.map(encode)),
        ]
        object["workflow_tenant"] = run.workflowTenant.map { .string($0.value) }
        object["tenant_id"] = run.tenant.map { .string($0.value) }
        object["finished_at"] = run.finishedAt.map { .number($0) }
        object["output"] = run.output
        object["response_status"] = run.responseStatus.map { .number(Double($0)) }
        object["error"] = run.error.map { .string($0) }
        object["failed_step"] = run.failedStep.map { .string($0) }
        object["ending"] = run.ending.map { .string($0.rawValue) }
        object["traceparent"] = run.traceparent.map { .string($0) }
        object["ad_hoc_definition"] = run.adHocDefinition.map { .string($0) }
        var out = ""
        out.reserveCapacity(4096)
        JSONValue.object(object).appendJSON(to: &out, sortedKeys: false)
        return out
    }

    private static func encode(_ step: StepRun) -> JSONValue {
        var object: [String: JSONValue] = ["id": .string(step.id), "state": .string(step.state.rawValue), "attempts": .number(Double(step.attempts))]
        object["status"] = step.status.map { .number(Double($0)) }
        object["body"] = step.body
        object["started_at"] = step.startedAt.map { .number($0) }
        object["finished_at"] = step.finishedAt.map { .number($0) }
        object["error"] = step.error.map { .string($0) }
        object["completion"] = step.completion.map { .number(Double($0)) }
        return .object(object)
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
