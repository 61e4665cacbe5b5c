/// One decision of the optimiser as it is published (`AutonomousDecision` events), listed
/// (`GET /api/brain/optimizer`) and answered (`POST /api/brain/optimize-platform`): the rule
/// that fired, the evidence it fired on, what was decided and what came of it.
public struct AutonomousDecision: Sendable, Hashable {
    public enum Rule: String, Sendable {
        /// p95 latency above the threshold.
        case optimize
        /// Error rate above the threshold.
        case selfHeal = "self_heal"
    }

    public enum Action: String, Sendable {
        case reduceWeight = "reduce_weight"
        case restoreWeight = "restore_weight"
        case callAgent = "call_agent"
        case runWorkflow = "run_workflow"
        case recovered
        case rolledBack = "rolled_back"
    }

    public enum Outcome: Sendable, Hashable {
        /// Carried out (a weight set, an incident closed).
        case applied
        /// A run was started: the agent call or the self-healing workflow, at `/api/brain/runs/{id}`.
        case started(runID: String)
        case failed(reason: String)
        /// `dry_run`: recorded, nothing done.
        case recorded

        public var name: String {
            switch self {
            case .applied: "applied"
            case .started: "started"
            case .failed: "failed"
            case .recorded: "recorded"
            }
        }
    }

    /// Numbered from 1 in this process, newest highest.
    public var id: Int
    /// Wall-clock seconds.
    public var at: Double
    public var service: ServiceKey
    public var rule: Rule
    public var p95Milliseconds: Double
    public var errorRate: Double
    public var requests: Int
    public var action: Action
    /// For weight changes: the instance and its weight before and after.
    public var instance: UpstreamInstance?
    public var fromWeight: Int?
    public var toWeight: Int?
    public var mode: OptimiserMode
    public var outcome: Outcome

    public init(
        id: Int, at: Double, service: ServiceKey, rule: Rule, p95Milliseconds: Double, errorRate: Double, requests: Int, action: Action,
        instance: UpstreamInstance? = nil, fromWeight: Int? = nil, toWeight: Int? = nil, mode: OptimiserMode, outcome: Outcome
    ) {
        self.id = id
        self.at = at
        self.service = service
        self.rule = rule
        self.p95Milliseconds = p95Milliseconds
        self.errorRate = errorRate
        self.requests = requests
        self.action = action
        self.instance = instance
        self.fromWeight = fromWeight
        self.toWeight = toWeight
        self.mode = mode
        self.outcome = outcome
    }
}
