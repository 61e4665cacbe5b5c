import BrainApplication
import BrainDomain
import CoreMetrics

/// Workflow and agent metrics in the gateway's Prometheus registry:
/// `brain_gateway_workflow_runs_total{workflow,status}`,
/// `brain_gateway_workflow_run_duration_seconds{workflow}`,
/// `brain_gateway_agent_executions_total{pattern,status}` (status `ok` or `error`).
extension GatewayMetrics: WorkflowObserver {
    public func runFinished(workflow: ServiceName, status: WorkflowRun.Status, seconds: Double) {
        CoreMetrics.Counter(
            label: "brain_gateway_workflow_runs_total", dimensions: [("workflow", workflow.value), ("status", status.rawValue)], factory: factory
        ).increment()
        CoreMetrics.Timer(
            label: "brain_gateway_workflow_run_duration_seconds", dimensions: [("workflow", workflow.value)], preferredDisplayUnit: .seconds,
            factory: factory
        ).recordNanoseconds(Int64(seconds * 1e9))
    }

    public func agentExecuted(pattern: AgentSettings.Pattern, succeeded: Bool) {
        CoreMetrics.Counter(
            label: "brain_gateway_agent_executions_total", dimensions: [("pattern", pattern.rawValue), ("status", succeeded ? "ok" : "error")],
            factory: factory
        ).increment()
    }
}

/// The optimiser's decisions: `brain_gateway_autonomous_decisions_total{rule,action,mode,outcome}`.
extension GatewayMetrics {
    public func autonomousDecision(_ decision: AutonomousDecision) {
        CoreMetrics.Counter(
            label: "brain_gateway_autonomous_decisions_total",
            dimensions: [
                ("rule", decision.rule.rawValue), ("action", decision.action.rawValue), ("mode", decision.mode.rawValue),
                ("outcome", decision.outcome.name),
            ],
            factory: factory
        ).increment()
    }
}
