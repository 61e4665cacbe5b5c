import BrainDomain

/// The life of one workflow run as a pure value: events in, actions out, nothing else.
///
/// It schedules the DAG (a step starts once every step it needs has finished), decides retries
/// and their delays, enforces the run's deadline, cancels and compensates when a required step
/// fails, and keeps the run record (`run`) that is stored after every event — so the executor
/// driving it only calls, sleeps and stores, and every rule here is tested without sockets.
///
/// Late events (an answer for an attempt that was cancelled or superseded, a retry timer for a
/// step that has moved on) carry their attempt number and are ignored by construction.
///
/// The deadline needs no timer of its own: every call's timeout and every retry's wait is
/// capped by what is left of it, and until the run ends or compensates at least one of them is
/// always pending, so an event always arrives by the deadline, and the first one at or after
/// it times the run out.
public struct WorkflowRunMachine: Sendable {
    /// What a step's call came back with.
    public enum Outcome: Sendable, Equatable {
        /// An HTTP answer (any status). `retryAfterSeconds` from the `Retry-After` field.
        case answered(status: Int, body: JSONValue, retryAfterSeconds: Double? = nil)
        /// No answer: `retryable` for a connect error or a timeout, not for a refusal that
        /// would come again (e.g. the step's service does not exist any more).
        case failed(reason: String, retryable: Bool)
    }

    /// A request a step makes, with every template already evaluated.
    public enum Request: Sendable, Equatable {
        case service(service: ServiceName, method: HttpMethod, path: String, headers: [String: String], body: JSONValue?)
        case agent(name: String, action: String, data: JSONValue)
        case integration(name: String, method: HttpMethod, path: String, body: JSONValue?)
    }

    public struct Call: Sendable, Equatable {
        public let step: Int
        public let attempt: Int
        public let request: Request
        /// The step's own timeout, capped by what is left of the run's deadline.
        public let timeoutSeconds: Double
        /// `<run_id>:<step_id>` (compensations: `<run_id>:<step_id>:compensate`), the same for
        /// every attempt and after a restart, so a backend can recognise a repeat.
        public let idempotencyKey: String
    }

    public enum Action: Sendable, Equatable {
        /// Make the call; answer with `.answered(step:attempt:…)`.
        case call(Call)
        /// Wait, then send `.retryDue(step:attempt:)`. The wait ends by the run's deadline
        /// (while compensating it retries the step's compensation, which the deadline no longer
        /// bounds).
        case retry(step: Int, attempt: Int, afterSeconds: Double)
        /// Abandon the step's call in flight (its answer no longer matters).
        case cancel(step: Int)
        /// Make a compensation call; answer with `.compensated(step:…)`.
        case compensate(Call)
        /// The run is finished: `run.status`, `run.output` and `run.responseStatus` are final.
        case finished
    }

    public enum Event: Sendable, Equatable {
        /// The run starts — or resumes after a restart, with its stored record.
        case start(now: Double)
        case answered(step: Int, attempt: Int, Outcome, now: Double)
        case retryDue(step: Int, attempt: Int, now: Double)
        case compensated(step: Int, Outcome, now: Double)
    }

    public let definition: WorkflowDefinition
    /// Each step's `needs` as step indices (looked up at every event otherwise).
    private let needs: [[Int]]
    public private(set) var run: WorkflowRun
    /// The attempt each step in flight (or waiting to retry) is on.
    private var inFlight: [Int: Int] = [:]
    /// Compensations still to make, next first.
    private var compensations: [Int] = []
    private var compensating = false
    /// The attempt of the compensation in flight (or waiting to be retried).
    private var compensationAttempt = 1
    /// Grows with every event that changed the run: the executor stores the run when it moved.
    public private(set) var revision = 0

    public init(definition: WorkflowDefinition, run: WorkflowRun) {
        self.definition = definition
        self.run = run
        self.needs = definition.steps.map { $0.needs.compactMap { definition.stepIndex($0) } }
    }

    /// A new run's record: every step pending.
    public static func newRun(
        of definition: WorkflowDefinition, id: String, tenant: TenantID?, input: JSONValue, caller: JSONValue, traceparent: String?, now: Double
    ) -> WorkflowRun {
        WorkflowRun(
            id: id, workflow: definition.name, workflowTenant: definition.tenant, tenant: tenant, startedAt: now, input: input,
            caller: caller, traceparent: traceparent, steps: definition.steps.map { StepRun(id: $0.id) })
    }

    /// When the whole run must be over, counted from its start (also after a restart).
    public var deadline: Double { run.startedAt + Double(definition.timeoutMilliseconds) / 1000 }

    public var isFinished: Bool { run.status.isFinished }

    public mutating func handle(_ event: Event) -> [Action] {
        guard !run.status.isFinished, accepts(event) else { return [] }
        revision += 1
        switch event {
        case .start(let now):
            return start(now: now)
        case .answered(let step, _, let outcome, let now):
            // Calls' timeouts and retries' waits end by the deadline: an event then means the
            // run timed out (10 ms allow for the timers' clock and this one).
            if now >= deadline - 0.01 { return timeOut(now: now) }
            return answered(step: step, outcome: outcome, now: now)
        case .retryDue(let step, let attempt, _) where compensating:
            guard let compensate = definition.steps[step].compensate else { return [] }
            return [.compensate(compensation(step, compensate, attempt: attempt))]
        case .retryDue(let step, let attempt, let now):
            if now >= deadline - 0.01 { return timeOut(now: now) }
            run.steps[step].attempts = attempt
            return call(step, attempt: attempt, now: now).map { [.call($0)] } ?? timeOut(now: now)
        case .compensated(let step, let outcome, let now):
            let retry = definition.steps[step].retry
            let attempt = compensationAttempt
            let tries = attempt > 1 ? " (after \(attempt) attempts)" : ""
            switch outcome {
            case .answered(let status, _, _) where (200...299).contains(status):
                run.steps[step].state = .compensated
                run.steps[step].error = nil
            case .answered(let status, _, let retryAfter):
                if Self.retryableStatuses.contains(status), attempt < retry.attempts {
                    return retryCompensation(step, after: Self.backoff(retry, afterAttempt: attempt, retryAfter: retryAfter))
                }
                run.steps[step].error = "its compensation answered \(status)\(tries)"
            case .failed(let reason, let retryable):
                if retryable, attempt < retry.attempts {
                    return retryCompensation(step, after: Self.backoff(retry, afterAttempt: attempt, retryAfter: nil))
                }
                run.steps[step].error = "its compensation failed\(tries): \(reason)"
            }
            compensations.removeFirst()
            return nextCompensation(now: now)
        }
    }

    /// Whether `event` still matters: answers and timers of superseded attempts, or anything
    /// once compensating began (but compensation answers) change nothing.
    private func accepts(_ event: Event) -> Bool {
        switch event {
        case .start: true
        case .answered(let step, let attempt, _, _): !compensating && inFlight[step] == attempt
        case .retryDue(let step, let attempt, _):
            compensating
                ? compensations.first == step && compensationAttempt == attempt
                : inFlight[step] == attempt && run.steps[step].state == .running
        case .compensated(let step, _, _): compensating && compensations.first == step
        }
    }

    // MARK: Scheduling

    private mutating func start(now: Double) -> [Action] {
        if let ending = run.ending {
            // Stopped while compensating: finish what was left (the calls carry the same keys).
            return beginCompensation(ending: ending, error: run.error ?? "the run failed", failedStep: run.failedStep, now: now)
        }
        guard now < deadline else { return timeOut(now: now) }
        var actions: [Action] = []
        for i in run.steps.indices where run.steps[i].state == .running {
            // Interrupted by a restart: its answer is unknown, so it is asked again, with the same key.
            let attempt = run.steps[i].attempts + 1
            run.steps[i].attempts = attempt
            guard let call = call(i, attempt: attempt, now: now) else { return timeOut(now: now) }
            actions.append(.call(call))
        }
        return actions + advance(now: now)
    }

    /// Starts (or skips) every pending step whose needs have finished; finishes the run when
    /// nothing is left.
    private mutating func advance(now: Double) -> [Action] {
        var actions: [Action] = []
        var changed = true
        while changed {
            changed = false
            for i in run.steps.indices where run.steps[i].state == .pending {
                let step = definition.steps[i]
                let needs = self.needs[i].map { run.steps[$0].state }
                guard needs.allSatisfy(\.isFinished) else { continue }
                changed = true
                if needs.contains(where: { $0 == .failed || $0 == .cancelled }) {
                    skip(i, now: now, reason: "a step it needs failed")
                } else if let when = step.when, !when.evaluate(in: scope).isTruthy {
                    skip(i, now: now, reason: nil)
                } else {
                    run.steps[i].state = .running
                    run.steps[i].startedAt = now
                    run.steps[i].attempts = 1
                    guard let call = call(i, attempt: 1, now: now) else { return actions + timeOut(now: now) }
                    actions.append(.call(call))
                }
            }
        }
        if run.steps.allSatisfy({ $0.state.isFinished }) {
            run.status = .succeeded
            run.finishedAt = now
            let scope = self.scope
            if let response = definition.interface.response {
                run.output = response.body.evaluate(in: scope)
                run.responseStatus = response.status
            } else {
                var outputs: [String: JSONValue] = [:]
                for s in run.steps where s.state == .succeeded || s.state == .fallback { outputs[s.id] = s.body ?? .null }
                run.output = .object(["run_id": .string(run.id), "status": .string("succeeded"), "output": .object(outputs)])
                run.responseStatus = 200
            }
            actions.append(.finished)
        }
        return actions
    }

    private mutating func skip(_ i: Int, now: Double, reason: String?) {
        run.steps[i].state = .skipped
        run.steps[i].finishedAt = now
        run.steps[i].error = reason
    }

    private mutating func answered(step i: Int, outcome: Outcome, now: Double) -> [Action] {
        let step = definition.steps[i]
        let attempt = run.steps[i].attempts
        var retryAfter: Double?
        var retryable: Bool
        switch outcome {
        case .answered(let status, let body, let after):
            run.steps[i].status = status
            run.steps[i].body = body
            if (200...299).contains(status) {
                inFlight[i] = nil
                run.steps[i].state = .succeeded
                run.steps[i].finishedAt = now
                run.steps[i].error = nil
                run.steps[i].completion = (run.steps.compactMap(\.completion).max() ?? 0) + 1
                return advance(now: now)
            }
            run.steps[i].error = "answered \(status)"
            retryable = Self.retryableStatuses.contains(status)
            retryAfter = after
        case .failed(let reason, let canRetry):
            run.steps[i].error = reason
            retryable = canRetry
        }
        if retryable, attempt < step.retry.attempts {
            let delay = min(Self.backoff(step.retry, afterAttempt: attempt, retryAfter: retryAfter), max(0, deadline - now))
            inFlight[i] = attempt + 1
            return [.retry(step: i, attempt: attempt + 1, afterSeconds: delay)]
        }
        inFlight[i] = nil
        run.steps[i].finishedAt = now
        if let fallback = step.fallback {
            run.steps[i].state = .fallback
            run.steps[i].body = fallback
            return advance(now: now)
        }
        run.steps[i].state = .failed
        if step.optional { return advance(now: now) }
        return beginCompensation(ending: .failed, error: "step '\(step.id)' failed: \(run.steps[i].error ?? "no answer")", failedStep: step.id, now: now)
    }

    /// Statuses worth another attempt: the backend may well answer next time.
    public static let retryableStatuses: Set<Int> = [429, 502, 503, 504]

    /// Exponential backoff from `backoff_ms`, doubled per attempt, capped by `max_backoff_ms`; a
    /// `Retry-After` longer than that is honoured up to the cap.
    public static func backoff(_ retry: WorkflowStep.Retry, afterAttempt attempt: Int, retryAfter: Double?) -> Double {
        let cap = Double(retry.maxBackoffMilliseconds) / 1000
        var delay = Double(retry.backoffMilliseconds) / 1000
        for _ in 1..<max(1, attempt) { delay = min(cap, delay * 2) }
        if let retryAfter { delay = max(delay, retryAfter) }
        return min(cap, delay)
    }

    private mutating func timeOut(now: Double) -> [Action] {
        beginCompensation(
            ending: .timedOut, error: "the run's deadline of \(definition.timeoutMilliseconds) ms passed", failedStep: nil, now: now)
    }

    // MARK: Failure and compensation

    private mutating func beginCompensation(ending: WorkflowRun.Status, error: String, failedStep: String?, now: Double) -> [Action] {
        var actions: [Action] = []
        compensating = true
        run.ending = ending
        run.error = error
        run.failedStep = failedStep
        for i in run.steps.indices {
            switch run.steps[i].state {
            case .running:
                if inFlight[i] != nil { actions.append(.cancel(step: i)) }
                inFlight[i] = nil
                run.steps[i].state = .cancelled
                run.steps[i].finishedAt = now
                if ending == .timedOut { run.steps[i].error = "cancelled by the run's deadline" }
            case .pending:
                run.steps[i].state = .cancelled
            default:
                break
            }
        }
        compensations = run.steps.indices
            .filter { run.steps[$0].state == .succeeded && definition.steps[$0].compensate != nil }
            .sorted { (run.steps[$0].completion ?? 0) > (run.steps[$1].completion ?? 0) }
        return actions + nextCompensation(now: now)
    }

    private mutating func nextCompensation(now: Double) -> [Action] {
        guard let i = compensations.first, let compensate = definition.steps[i].compensate else {
            run.status = run.ending ?? .failed
            run.ending = nil
            run.finishedAt = now
            run.responseStatus = run.status == .timedOut ? 504 : 502
            return [.finished]
        }
        return [.compensate(compensation(i, compensate, attempt: 1))]
    }

    /// A compensation is retried like its step's call (the step's `retry`), with the same key;
    /// it runs after the run's deadline too, so only its own timeout bounds it.
    private mutating func retryCompensation(_ i: Int, after delay: Double) -> [Action] {
        compensationAttempt += 1
        return [.retry(step: i, attempt: compensationAttempt, afterSeconds: delay)]
    }

    private mutating func compensation(_ i: Int, _ compensate: ServiceCall, attempt: Int) -> Call {
        compensationAttempt = attempt
        let step = definition.steps[i]
        return Call(
            step: i, attempt: attempt, request: Self.request(for: compensate, in: scope),
            timeoutSeconds: Double(step.timeoutMilliseconds) / 1000, idempotencyKey: "\(run.id):\(step.id):compensate")
    }

    // MARK: Requests

    /// The call for step `i`'s attempt; nil when the run's deadline has already passed.
    private mutating func call(_ i: Int, attempt: Int, now: Double) -> Call? {
        let left = deadline - now
        guard left > 0 else { return nil }
        inFlight[i] = attempt
        let step = definition.steps[i]
        let scope = self.scope
        let request: Request
        switch step.action {
        case .call(let call):
            request = Self.request(for: call, in: scope)
        case .agent(let name, let action, let with):
            request = .agent(name: name.evaluate(in: scope).text, action: action, data: with.evaluate(in: scope))
        case .integration(let name, let method, let path, let body):
            request = .integration(name: name, method: method, path: Self.absolute(path.evaluatePath(in: scope)), body: body?.evaluate(in: scope))
        }
        return Call(
            step: i, attempt: attempt, request: request, timeoutSeconds: min(Double(step.timeoutMilliseconds) / 1000, left),
            idempotencyKey: "\(run.id):\(step.id)")
    }

    static func request(for call: ServiceCall, in scope: JSONValue) -> Request {
        var headers: [String: String] = [:]
        for (name, template) in call.headers {
            // A value read from data must not add fields or end the head.
            let value = template.evaluate(in: scope).text
            if !value.utf8.contains(where: { $0 == 10 || $0 == 13 || $0 == 0 }) { headers[name] = value }
        }
        return .service(
            service: call.service, method: call.method, path: absolute(call.path.evaluatePath(in: scope)), headers: headers,
            body: call.body?.evaluate(in: scope))
    }

    private static func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : "/" + path }

    /// What expressions see: `input`, `steps.<id>.{body,status,state}`, `run.{id,tenant_id}`, `caller`.
    public var scope: JSONValue {
        var steps: [String: JSONValue] = [:]
        for s in run.steps {
            steps[s.id] = .object([
                "body": s.body ?? .null, "status": s.status.map { .number(Double($0)) } ?? .null, "state": .string(s.state.rawValue),
            ])
        }
        return .object([
            "input": run.input, "steps": .object(steps),
            "run": .object(["id": .string(run.id), "tenant_id": run.tenant.map { .string($0.value) } ?? .null]),
            "caller": run.caller,
        ])
    }
}
