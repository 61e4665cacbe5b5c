import BrainDomain
import Foundation
import Logging
import Synchronization

/// What the engine reports as runs finish and agents are called (Prometheus and the summary).
public protocol WorkflowObserver: Sendable {
    func runFinished(workflow: ServiceName, status: WorkflowRun.Status, seconds: Double)
    func agentExecuted(pattern: AgentSettings.Pattern, succeeded: Bool)
}

/// Drives runs: a thin executor around `WorkflowRunMachine`. For each event it lets the machine
/// decide, stores the run record (before acting on it), then makes the calls, timers and
/// cancellations the machine asked for. Each run is one task with an event inbox; its calls
/// (started with completions that post to the inbox) and retry timers are children it owns and
/// cancels.
public final class WorkflowEngine: Sendable {
    private let repository: any WorkflowRunRepository
    private let caller: any WorkflowStepCaller
    public let agents: AgentRouter
    private let events: any DomainEventSink
    private let observer: any WorkflowObserver
    private let now: @Sendable () -> Double
    private let logger: Logger
    /// Runs this process is driving, by id.
    private let active = Mutex<[String: Task<WorkflowRun, Never>]>([:])
    private let counters: TrafficCounters

    private let integrations: (any IntegrationStepCaller)?

    public init(
        repository: any WorkflowRunRepository, caller: any WorkflowStepCaller, agents: AgentRouter, events: any DomainEventSink,
        observer: any WorkflowObserver, counters: TrafficCounters, now: @escaping @Sendable () -> Double, logger: Logger,
        integrations: (any IntegrationStepCaller)? = nil
    ) {
        self.integrations = integrations
        self.counters = counters
        self.repository = repository
        self.caller = caller
        self.agents = agents
        self.events = events
        self.observer = observer
        self.now = now
        self.logger = logger
    }

    public enum Started: Sendable {
        /// A new run, being driven; await `finished` for its end.
        case new(id: String, finished: Task<WorkflowRun, Never>)
        /// The `Idempotency-Key` names an earlier run (of this tenant and workflow).
        case existing(WorkflowRun, bodyDigest: String)
    }

    /// What a caller's run request came to.
    public enum Submission: Sendable {
        case started(id: String, finished: Task<WorkflowRun, Never>)
        /// The `Idempotency-Key`'s earlier run, finished: its answer is the answer.
        case replayed(WorkflowRun)
    }

    /// Why a caller's run request was refused before anything ran.
    public enum Refusal: Error, Sendable, Equatable {
        case roleMissing(workflow: ServiceName, roles: [String])
        case invalidInput(field: String, reason: String)
        /// The key was used with another body.
        case keyReused
        /// The key's run is still going.
        case inProgress(runID: String)
    }

    /// A caller runs `definition`: its roles, its input schema and the `Idempotency-Key` rules
    /// (the same body replays a finished run, another body is refused, a running one is in
    /// progress), then a new run. Every API that starts runs goes through here.
    public func submit(
        _ definition: WorkflowDefinition, input: JSONValue, principal: Principal, tenant: TenantID, traceparent: String?,
        idempotency: RunIdempotency?
    ) async throws -> Submission {
        guard principal.isPlatformAdmin || principal.hasAny(of: definition.roles) else {
            throw Refusal.roleMissing(workflow: definition.name, roles: definition.roles)
        }
        if let violation = definition.interface.input.violation(in: input) {
            throw Refusal.invalidInput(field: violation.field, reason: "input.\(violation.field) \(violation.reason)")
        }
        let started = try await start(
            definition, id: UUID().uuidString.lowercased(), input: input, principal: principal, tenant: tenant, traceparent: traceparent,
            idempotency: idempotency)
        switch started {
        case .new(let id, let finished):
            return .started(id: id, finished: finished)
        case .existing(let run, let digest):
            guard digest == idempotency?.bodyDigest else { throw Refusal.keyReused }
            guard run.status.isFinished else { throw Refusal.inProgress(runID: run.id) }
            return .replayed(run)
        }
    }

    /// Stores a new run of `definition` and starts driving it.
    public func start(
        _ definition: WorkflowDefinition, id: String, input: JSONValue, principal: Principal?, tenant: TenantID?, traceparent: String?,
        idempotency: RunIdempotency?, adHocDefinition: String? = nil
    ) async throws -> Started {
        var run = WorkflowRunMachine.newRun(
            of: definition, id: id, tenant: tenant, input: input, caller: Self.callerValue(principal), traceparent: traceparent, now: now())
        run.adHocDefinition = adHocDefinition
        // The first steps are decided before the run is stored, so one write records both.
        var machine = WorkflowRunMachine(definition: definition, run: run)
        let first = machine.handle(.start(now: run.startedAt))
        if let (existing, digest) = try await repository.create(machine.run, idempotency: idempotency) {
            return .existing(existing, bodyDigest: digest)
        }
        events.publish([.workflowRunStarted(workflow: definition.name, tenant: tenant, run: id)], at: now())
        return .new(id: id, finished: launch(machine, first: first, principal: principal))
    }

    /// Resumes every stored run still `running` whose workflow `definition(for:)` finds; the
    /// others are marked failed (their definition is gone).
    public func resumeUnfinished(definition: @Sendable (WorkflowRun) -> WorkflowDefinition?) async {
        let runs: [WorkflowRun]
        do { runs = try await repository.unfinished() } catch {
            logger.error("unfinished runs could not be read", metadata: ["error": "\(error)"])
            return
        }
        for var run in runs where active.withLock({ $0[run.id] == nil }) {
            guard let found = definition(run), found.steps.map(\.id) == run.steps.map(\.id) else {
                run.status = .failed
                run.finishedAt = now()
                run.error = "the workflow was removed or changed while the run was stopped"
                run.responseStatus = 502
                try? await repository.save(run)
                continue
            }
            logger.notice("resuming workflow run", metadata: ["run_id": .string(run.id), "workflow": .string(run.workflow.value)])
            _ = launch(WorkflowRunMachine(definition: found, run: run), first: nil, principal: Self.principal(from: run))
        }
    }

    /// The run `id` if this process is driving it.
    public func driving(_ id: String) -> Task<WorkflowRun, Never>? { active.withLock { $0[id] } }

    /// Stops driving every run (shutdown): they stay `running` in the store and resume at the
    /// next start.
    public func stopAll() async {
        let tasks = active.withLock { Array($0.values) }
        for task in tasks { task.cancel() }
        for task in tasks { _ = await task.value }
    }

    /// - Parameter first: the actions of the run's start, already stored; nil to start (or
    ///   resume) it in the task.
    private func launch(_ machine: WorkflowRunMachine, first: [WorkflowRunMachine.Action]?, principal: Principal?) -> Task<WorkflowRun, Never> {
        let id = machine.run.id
        // The lock is held while the task is created, so it cannot finish (and remove itself)
        // before it is listed.
        return active.withLock { active in
            let task = Task { [self] in
                let run = await self.drive(machine, first: first, principal: principal)
                _ = self.active.withLock { $0.removeValue(forKey: id) }
                return run
            }
            active[id] = task
            return task
        }
    }

    // MARK: Driving

    private func drive(_ start: WorkflowRunMachine, first: [WorkflowRunMachine.Action]?, principal: Principal?) async -> WorkflowRun {
        var machine = start
        let inbox = Inbox<WorkflowRunMachine.Event>()
        // Each step's call in flight or retry timer, and the compensation call, by how to cancel it.
        var children: [Int: @Sendable () -> Void] = [:]
        var compensation: (@Sendable () -> Void)?
        let clock = now
        // No deadline timer: the machine caps every call's timeout and retry's wait by it.
        defer {
            compensation?()
            for cancel in children.values { cancel() }
            inbox.close()
        }
        var actions: [WorkflowRunMachine.Action]
        if let first {
            actions = first
        } else {
            actions = machine.handle(.start(now: now()))
            await store(machine.run)
        }
        while true {
            let run = machine.run
            for action in actions {
                switch action {
                case .call(let call):
                    children[call.step]?()
                    children[call.step] = begin(call, run: run, principal: principal) { outcome in
                        inbox.post(.answered(step: call.step, attempt: call.attempt, outcome, now: clock()))
                    }
                case .retry(let step, let attempt, let after):
                    let timer = Task {
                        try? await Task.sleep(for: .seconds(after))
                        if !Task.isCancelled { inbox.post(.retryDue(step: step, attempt: attempt, now: clock())) }
                    }
                    children[step] = { timer.cancel() }
                case .cancel(let step):
                    children.removeValue(forKey: step)?()
                case .compensate(let call):
                    compensation = begin(call, run: run, principal: principal) { outcome in
                        inbox.post(.compensated(step: call.step, outcome, now: clock()))
                    }
                case .finished:
                    finished(run)
                    return run
                }
            }
            // Cancelled (shutdown): the run stays `running` in the store and resumes later.
            // Events that arrived together are stored together: one write for several answers.
            guard let events = await inbox.next() else { return machine.run }
            let revision = machine.revision
            actions = events.flatMap { machine.handle($0) }
            if machine.revision != revision { await store(machine.run) }
        }
    }

    private func finished(_ run: WorkflowRun) {
        let seconds = max(0, (run.finishedAt ?? now()) - run.startedAt)
        observer.runFinished(workflow: run.workflow, status: run.status, seconds: seconds)
        let event: DomainEvent =
            run.status == .succeeded
            ? .workflowRunSucceeded(workflow: run.workflow, tenant: run.tenant, run: run.id, milliseconds: run.durationMilliseconds ?? 0)
            : .workflowRunFailed(workflow: run.workflow, tenant: run.tenant, run: run.id, status: run.status.rawValue, failedStep: run.failedStep)
        events.publish([event], at: now())
    }

    /// Stores the run; a failed write is retried briefly, then logged (the run goes on: losing
    /// durability for a moment beats failing work that is succeeding).
    private func store(_ run: WorkflowRun) async {
        for attempt in 1...3 {
            do {
                try await repository.save(run)
                return
            } catch {
                if attempt == 3 {
                    logger.error("a workflow run could not be stored", metadata: ["run_id": .string(run.id), "error": "\(error)"])
                } else {
                    try? await Task.sleep(for: .milliseconds(20 * attempt))
                }
            }
        }
    }

    // MARK: Calls

    /// A call's result as the run machine sees it.
    static func outcome(_ result: Result<StepResponse, StepCallFailure>) -> WorkflowRunMachine.Outcome {
        switch result {
        case .success(let response):
            .answered(status: response.status, body: body(response.body), retryAfterSeconds: response.retryAfterSeconds)
        case .failure(.refused(let status, let body, let retryAfter)):
            .answered(status: status, body: Self.body(body), retryAfterSeconds: retryAfter)
        case .failure(.unreachable(let reason)):
            .failed(reason: reason, retryable: true)
        case .failure(.failed(let reason)):
            .failed(reason: reason, retryable: false)
        case .failure(.cancelled):
            .failed(reason: "cancelled", retryable: false)
        }
    }

    /// Starts the call; `done` gets its outcome (at once when it cannot be made). Returns how
    /// to abandon it.
    private func begin(
        _ call: WorkflowRunMachine.Call, run: WorkflowRun, principal: Principal?,
        done: @escaping @Sendable (WorkflowRunMachine.Outcome) -> Void
    ) -> @Sendable () -> Void {
        let request: StepRequest
        var agentPattern: AgentSettings.Pattern?
        switch call.request {
        case .service(let service, let method, let path, let headers, let body):
            request = StepRequest(
                service: service, method: method, path: path, headers: headers, body: body?.json, principal: principal, tenant: run.tenant,
                idempotencyKey: call.idempotencyKey, workflow: run.workflow, runID: run.id, traceparent: run.traceparent,
                timeoutSeconds: call.timeoutSeconds)
        case .agent(let name, let action, let data):
            // A templated name is only known now: one that is not a name fails the step.
            guard AgentRouter.isAgentName(name) else {
                done(.failed(reason: "'\(name.prefix(64))' is not an agent or integration name", retryable: false))
                return {}
            }
            let requestID = "\(run.id):\(run.steps[call.step].id):\(call.attempt)"
            let payload = agents.payload(name: name, action: action, data: data, tenant: run.tenant, requestID: requestID)
            agentPattern = agents.pattern(for: name)
            request = StepRequest(
                service: agents.settings.service, method: .post, path: agents.settings.executePath, body: payload.json, principal: principal,
                tenant: run.tenant, idempotencyKey: call.idempotencyKey, workflow: run.workflow, runID: run.id, traceparent: run.traceparent,
                timeoutSeconds: call.timeoutSeconds)
        case .integration(let name, let method, let path, let body):
            guard let integrations, let tenant = run.tenant else {
                done(.failed(reason: "integration '\(name)' needs a tenant's credentials; this run has no tenant", retryable: false))
                return {}
            }
            // Not the hot path of workflows: a task per integration call.
            let task = Task {
                let result = await integrations.call(
                    integration: name, method: method, path: path, body: body?.json, tenant: tenant, idempotencyKey: call.idempotencyKey,
                    timeoutSeconds: call.timeoutSeconds)
                done(Self.outcome(result))
            }
            return { task.cancel() }
        }
        let counters = self.counters
        let observer = self.observer
        return caller.start(request) { [agentPattern] result in
            let outcome = Self.outcome(result)
            if let agentPattern, result != .failure(.cancelled) {
                counters.agentExecuted()
                if case .answered(let status, _, _) = outcome {
                    observer.agentExecuted(pattern: agentPattern, succeeded: (200...299).contains(status))
                } else {
                    observer.agentExecuted(pattern: agentPattern, succeeded: false)
                }
            }
            done(outcome)
        }.cancel
    }

    /// A body as expressions see it: JSON when it is JSON, otherwise its text; empty is null.
    static func body(_ bytes: [UInt8]) -> JSONValue {
        guard !bytes.isEmpty else { return .null }
        if let value = try? JSONParser.parse(bytes) { return value }
        return .string(String(decoding: bytes.prefix(64 * 1024), as: UTF8.self))
    }

    // MARK: The caller, kept with the run

    /// The caller as expressions see it, and as a resumed run acts: subject, tenant and roles.
    static func callerValue(_ principal: Principal?) -> JSONValue {
        guard let principal else { return .null }
        return .object([
            "sub": .string(principal.subject), "tenant_id": .string(principal.tenant.value),
            "roles": .array(principal.roles.map { .string($0) }),
        ])
    }

    /// A resumed run acts as the caller that started it; its token is not kept, so the identity
    /// is rebuilt from the stored subject, tenant and roles (backends see it in `X-Brain-Token`).
    static func principal(from run: WorkflowRun) -> Principal? {
        guard case .string(let sub) = run.caller["sub"], case .string(let tenantText) = run.caller["tenant_id"],
              let tenant = try? TenantID(tenantText)
        else { return nil }
        var roles: [String] = []
        if case .array(let values) = run.caller["roles"] { roles = values.compactMap { if case .string(let r) = $0 { return r }; return nil } }
        return Principal(subject: sub, tenant: tenant, roles: roles, expiresAt: Double.greatestFiniteMagnitude)
    }
}
