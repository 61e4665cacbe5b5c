/// A run of a workflow as it is stored and shown: the run's status, and each step's state.
///
/// Times are wall-clock seconds since 1970, because a run outlives the process that started it
/// (a resumed run's deadline counts from `startedAt`).
public struct WorkflowRun: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        case running, succeeded, failed
        case timedOut = "timed_out"

        public var isFinished: Bool { self != .running }
    }

    public var id: String
    public var workflow: ServiceName
    /// The definition's own tenant (nil = a global workflow).
    public var workflowTenant: TenantID?
    /// The caller's tenant: whose run it is.
    public var tenant: TenantID?
    public var status: Status
    public var startedAt: Double
    public var finishedAt: Double?
    public var input: JSONValue
    /// What the run answered (the response body) once finished.
    public var output: JSONValue?
    /// The HTTP status the run answered with once finished.
    public var responseStatus: Int?
    public var error: String?
    /// The step whose failure ended the run.
    public var failedStep: String?
    /// Set when the run has failed or timed out but its compensations are still being made:
    /// the status it takes once they are done (a resumed run finishes them).
    public var ending: Status?
    /// The caller, as expressions see it (`caller.sub`, `caller.roles`).
    public var caller: JSONValue
    /// The run's trace context, so a resumed run's calls stay in the same trace.
    public var traceparent: String?
    /// The definition of a run made up on the spot (a direct agent call), which no catalogue
    /// holds: kept with the run so a restart can resume it.
    public var adHocDefinition: String?
    public var steps: [StepRun]

    public init(
        id: String, workflow: ServiceName, workflowTenant: TenantID?, tenant: TenantID?, startedAt: Double, input: JSONValue,
        caller: JSONValue, traceparent: String?, steps: [StepRun]
    ) {
        self.id = id
        self.workflow = workflow
        self.workflowTenant = workflowTenant
        self.tenant = tenant
        self.status = .running
        self.startedAt = startedAt
        self.input = input
        self.caller = caller
        self.traceparent = traceparent
        self.steps = steps
    }

    public var durationMilliseconds: Int? {
        finishedAt.map { Int(max(0, $0 - startedAt) * 1000) }
    }
}

/// One step of a run.
public struct StepRun: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        case pending, running, succeeded, failed, skipped, fallback, cancelled, compensated

        /// Finished for scheduling: the steps that need it may be decided.
        public var isFinished: Bool { self != .pending && self != .running }
    }

    public var id: String
    public var state: State
    /// Calls made so far (retries included).
    public var attempts: Int
    /// The HTTP status of the last answer.
    public var status: Int?
    public var body: JSONValue?
    public var startedAt: Double?
    public var finishedAt: Double?
    /// Why the step failed, in plain words.
    public var error: String?
    /// The order in which succeeded steps finished (compensation runs in reverse).
    public var completion: Int?

    public init(id: String) {
        self.id = id
        self.state = .pending
        self.attempts = 0
    }

    public var durationMilliseconds: Int? {
        guard let startedAt, let finishedAt else { return nil }
        return Int(max(0, finishedAt - startedAt) * 1000)
    }
}
