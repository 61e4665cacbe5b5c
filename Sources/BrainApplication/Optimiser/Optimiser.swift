import BrainDomain
import Logging
import ServiceLifecycle

/// Where the optimiser reads its evidence: every event loop's windows, summed.
public protocol TrafficEvidenceSource: Sendable {
    func evidence(for services: [ServiceRoute]) async -> [ServiceKey: ServiceTrafficSample]
}

/// What the optimiser starts besides weight changes: runs of the workflow engine (durable,
/// retried, visible at `/api/brain/runs/{id}`). Each answers the run's id.
public protocol OptimiserRuns: Sendable {
    /// Calls agent `name` with `action` and `input` as a one-step run.
    func callAgent(_ name: String, action: String, input: JSONValue, tenant: TenantID?) async throws -> String
    /// Runs the workflow `name` (the service's tenant's, or the platform's).
    func runWorkflow(_ name: String, input: JSONValue, tenant: TenantID?) async throws -> String
}

/// The autonomous optimiser: every `interval_seconds` it reads each service's window, lets
/// `OptimiserPolicy` decide, then carries the decisions out (`act`) or only records them
/// (`dry_run`); each decision is an `AutonomousDecision` event. Weights change through the
/// registry (new picks use them at once); agent calls and self-healing are runs of the engine.
///
/// Weights it did not set are the configured ones: if an operator (or a reload) changes a weight
/// the optimiser had lowered, that becomes the weight the optimiser restores to.
public actor Optimiser: Service {
    public struct ServiceStatus: Sendable {
        /// The latest analysis's window, each instance's `currentWeight` the registry's now.
        public var evidence: ServiceEvidence
        public var latencyIncident: Bool
        public var errorIncident: Bool
        /// `dry_run`: the weights the decisions recorded would have set.
        public var dryRunWeights: [UpstreamInstance: Int]
        /// The factor the optimiser's weights carry (see `scale`); `configuredWeight` is unscaled.
        public var weightScale: Int
    }

    public struct Status: Sendable {
        public var mode: OptimiserMode
        public var paused: Bool
        public var intervalSeconds: Double
        public var windowSeconds: Double
        public var lastAnalysisAt: Double?
        public var services: [ServiceKey: ServiceStatus]
        /// Newest first.
        public var decisions: [AutonomousDecision]
    }

    public nonisolated let settings: OptimiserSettings
    private let registry: ServiceRegistry
    private let source: any TrafficEvidenceSource
    private let runs: any OptimiserRuns
    private let events: any DomainEventSink
    private let logger: Logger
    private let clock: @Sendable () -> Double
    private let observer: (@Sendable (AutonomousDecision) -> Void)?
    private let counters: TrafficCounters

    private var policies: [ServiceKey: OptimiserPolicy] = [:]
    /// The weights the optimiser set (in `dry_run`, would have set), per service and instance.
    private var applied: [ServiceKey: [UpstreamInstance: Int]] = [:]
    /// The weights it restores to, per service and instance.
    private var configured: [ServiceKey: [UpstreamInstance: Int]] = [:]
    private var latest: [ServiceKey: ServiceEvidence] = [:]
    private var recent: [AutonomousDecision] = []
    private var lastAnalysisAt: Double?
    private var nextID = 1
    private var paused = false
    private var inProgress: Task<[AutonomousDecision], Never>?

    static let keptDecisions = 200

    /// - Parameters:
    ///   - clock: wall-clock seconds, for cooldowns and the decisions' times.
    ///   - observer: told of every decision (Prometheus).
    public init(
        settings: OptimiserSettings, registry: ServiceRegistry, source: any TrafficEvidenceSource, runs: any OptimiserRuns,
        events: any DomainEventSink, counters: TrafficCounters, logger: Logger, clock: @escaping @Sendable () -> Double,
        observer: (@Sendable (AutonomousDecision) -> Void)? = nil
    ) {
        self.counters = counters
        self.settings = settings
        self.registry = registry
        self.source = source
        self.runs = runs
        self.events = events
        self.logger = logger
        self.clock = clock
        self.observer = observer
    }

    public func run() async throws {
        guard settings.mode != .off else { return }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(Int64(self.settings.intervalSeconds * 1000)))
                guard !Task.isCancelled else { return }
                if await !self.isPaused { _ = await self.analyse() }
            }
        }
    }

    public var isPaused: Bool { paused }

    public func pause() {
        guard !paused else { return }
        paused = true
        logger.notice("optimiser paused")
    }

    public func resume() {
        guard paused else { return }
        paused = false
        logger.notice("optimiser resumed")
    }

    public func status() -> Status {
        var services: [ServiceKey: ServiceStatus] = [:]
        let live = registry.directory.services
        for (key, var evidence) in latest {
            let policy = policies[key] ?? OptimiserPolicy()
            var scale = 1
            if let service = live.first(where: { $0.name == key.name && $0.tenant == key.tenant }) {
                scale = self.scale(service, key: key)
                for i in evidence.instances.indices {
                    let instance = evidence.instances[i].instance
                    if let index = service.instances.firstIndex(of: instance) {
                        evidence.instances[i].currentWeight = service.weights[index]
                        evidence.instances[i].configuredWeight = configured[key]?[instance] ?? service.weights[index]
                    }
                }
            }
            services[key] = ServiceStatus(
                evidence: evidence, latencyIncident: policy.latencyIncidentOpen, errorIncident: policy.errorIncidentOpen,
                dryRunWeights: settings.mode == .dryRun ? applied[key] ?? [:] : [:], weightScale: scale)
        }
        return Status(
            mode: settings.mode, paused: paused, intervalSeconds: settings.intervalSeconds, windowSeconds: settings.windowSeconds,
            lastAnalysisAt: lastAnalysisAt, services: services, decisions: recent.reversed())
    }

    /// One analysis of every registered service now; answers its decisions (carried out in
    /// `act`, recorded in `dry_run`). Analyses never overlap: the actor lets another caller in
    /// while one waits (for the windows, or to start a run), and two analyses a moment apart
    /// would count as two windows toward a breach. A caller arriving meanwhile gets the
    /// running analysis's decisions.
    public func analyse() async -> [AutonomousDecision] {
        if let inProgress { return await inProgress.value }
        let analysis = Task { await self.analyseOnce() }
        inProgress = analysis
        defer { inProgress = nil }
        return await analysis.value
    }

    private func analyseOnce() async -> [AutonomousDecision] {
        let services = registry.directory.services
        let samples = await source.evidence(for: services)
        let now = clock()
        lastAnalysisAt = now
        var made: [AutonomousDecision] = []
        var seen = Set<ServiceKey>()
        for service in services {
            let key = ServiceKey(name: service.name, tenant: service.tenant)
            seen.insert(key)
            let evidence = self.evidence(for: service, key: key, sample: samples[key] ?? ServiceTrafficSample())
            latest[key] = evidence
            var policy = policies[key] ?? OptimiserPolicy()
            let decisions = policy.analyse(evidence, settings: settings, now: now)
            policies[key] = policy
            for decision in decisions {
                made.append(await carryOut(decision, service: service, key: key, evidence: evidence, now: now))
            }
        }
        // Removed services are forgotten.
        for key in Set(policies.keys).subtracting(seen) {
            policies[key] = nil
            applied[key] = nil
            configured[key] = nil
        }
        for key in Set(latest.keys).subtracting(seen) { latest[key] = nil }
        return made
    }

    /// The window as the policy sees it: each instance's configured weight and current one,
    /// both in the service's scaled units (see `scale`).
    private func evidence(for service: ServiceRoute, key: ServiceKey, sample: ServiceTrafficSample) -> ServiceEvidence {
        for (index, instance) in service.instances.enumerated() {
            let live = service.weights[index]
            if let set = applied[key]?[instance], settings.mode == .act, set != live {
                // Someone else changed it since: theirs is the configured weight now.
                applied[key]?[instance] = nil
                configured[key]?[instance] = live
            }
            if applied[key]?[instance] == nil { configured[key, default: [:]][instance] = live }
        }
        let scale = self.scale(service, key: key)
        var instances: [InstanceEvidence] = []
        for (index, instance) in service.instances.enumerated() {
            let base = configured[key]?[instance] ?? service.weights[index]
            let measured = sample.instances[instance] ?? TrafficSample()
            instances.append(InstanceEvidence(
                instance: instance, requests: measured.requests, errors: measured.errors, p95Milliseconds: measured.p95Milliseconds,
                configuredWeight: base * scale, currentWeight: applied[key]?[instance] ?? base * scale))
        }
        return ServiceEvidence(
            requests: sample.service.requests, errors: sample.service.errors, p95Milliseconds: sample.service.p95Milliseconds,
            meanMilliseconds: sample.service.latencies.meanMilliseconds, instances: instances)
    }

    /// Weights are integers, and most are the default 1: a step of half of 1 does not exist. So
    /// the optimiser works on the service's configured weights times a factor that puts the
    /// smallest at 100 or more (×100 for weights of 1; never past the registry's 1,000), writes
    /// every instance's weight scaled when it first changes one (the shares are the configured
    /// ones until it moves them) and writes the configured weights back when the incident ends.
    private func scale(_ service: ServiceRoute, key: ServiceKey) -> Int {
        let weights = service.instances.enumerated().map { configured[key]?[$1] ?? service.weights[$0] }
        guard let smallest = weights.min(), let largest = weights.max(), smallest > 0 else { return 1 }
        return max(1, min(ServiceRoute.Limits.maxWeight / largest, (100 + smallest - 1) / smallest))
    }

    private func carryOut(
        _ decision: OptimiserDecision, service: ServiceRoute, key: ServiceKey, evidence: ServiceEvidence, now: Double
    ) async -> AutonomousDecision {
        let acting = settings.mode == .act
        var record = AutonomousDecision(
            id: nextID, at: now, service: key, rule: .optimize, p95Milliseconds: evidence.p95Milliseconds, errorRate: evidence.errorRate,
            requests: evidence.requests, action: .recovered, mode: settings.mode, outcome: acting ? .applied : .recorded)
        nextID += 1
        switch decision {
        case .setWeight(let instance, let from, let to, let rule):
            record.rule = rule == .latency ? .optimize : .selfHeal
            record.action = to < from ? .reduceWeight : .restoreWeight
            record.instance = instance
            record.fromWeight = from
            record.toWeight = to
            if acting {
                do {
                    // The others first, at their configured share in the same units.
                    let scale = self.scale(service, key: key)
                    for other in service.instances where other != instance && applied[key]?[other] == nil {
                        let weight = (configured[key]?[other] ?? 1) * scale
                        try registry.setWeight(weight, of: other, service: service.name, tenant: service.tenant)
                        applied[key, default: [:]][other] = weight
                    }
                    try registry.setWeight(to, of: instance, service: service.name, tenant: service.tenant)
                    applied[key, default: [:]][instance] = to
                } catch {
                    record.outcome = .failed(reason: "\(error)")
                }
            } else {
                applied[key, default: [:]][instance] = to
            }
        case .callOptimisationAgent:
            record.action = .callAgent
            if acting {
                record.outcome = await started {
                    try await runs.callAgent(settings.optimizationAgent, action: "optimize", input: Self.input(key, evidence, rule: .optimize), tenant: key.tenant)
                }
            }
        case .runSelfHealing:
            record.rule = .selfHeal
            record.action = .runWorkflow
            if acting {
                record.outcome = await started {
                    try await runs.runWorkflow(settings.selfHealingWorkflow, input: Self.input(key, evidence, rule: .selfHeal), tenant: key.tenant)
                }
            }
        case .recovered(let rule):
            record.rule = rule == .latency ? .optimize : .selfHeal
            record.action = .recovered
            if rule == .latency { restoreConfiguredWeights(service, key: key, acting: acting) }
        case .rolledBack(let rule):
            record.rule = rule == .latency ? .optimize : .selfHeal
            record.action = .rolledBack
        }
        publish(record)
        return record
    }

    /// The incident is over: the configured weights themselves go back (the scaled ones had
    /// the same shares, but the service document shows what its owner wrote).
    private func restoreConfiguredWeights(_ service: ServiceRoute, key: ServiceKey, acting: Bool) {
        defer { applied[key] = nil }
        guard acting else { return }
        for instance in service.instances {
            guard applied[key]?[instance] != nil, let weight = configured[key]?[instance] else { continue }
            do {
                try registry.setWeight(weight, of: instance, service: service.name, tenant: service.tenant)
            } catch {
                logger.warning("a configured weight could not be restored", metadata: [
                    "service": .string(service.name.value), "instance": .string(instance.description), "error": .string("\(error)"),
                ])
            }
        }
    }

    private func started(_ start: () async throws -> String) async -> AutonomousDecision.Outcome {
        do {
            return .started(runID: try await start())
        } catch {
            return .failed(reason: "\(error)")
        }
    }

    private func publish(_ decision: AutonomousDecision) {
        recent.append(decision)
        if recent.count > Self.keptDecisions { recent.removeFirst(recent.count - Self.keptDecisions) }
        counters.autonomousDecisionMade()
        events.publish([.autonomousDecision(decision)], at: decision.at)
        observer?(decision)
        var metadata: Logger.Metadata = [
            "service": .string(decision.service.name.value), "rule": .string(decision.rule.rawValue),
            "action": .string(decision.action.rawValue), "mode": .string(decision.mode.rawValue), "outcome": .string(decision.outcome.name),
        ]
        if let instance = decision.instance, let to = decision.toWeight {
            metadata["instance"] = .string(instance.description)
            metadata["weight"] = .stringConvertible(to)
        }
        logger.notice("autonomous decision", metadata: metadata)
    }

    /// The evidence handed to the agent or the self-healing workflow:
    /// `{service, tenant_id, rule, error_rate, p95_ms, mean_ms, requests, instances: [...]}`.
    static func input(_ key: ServiceKey, _ evidence: ServiceEvidence, rule: AutonomousDecision.Rule) -> JSONValue {
        func rounded(_ value: Double, _ scale: Double) -> JSONValue { .number((value * scale).rounded() / scale) }
        var object: [String: JSONValue] = [
            "service": .string(key.name.value), "rule": .string(rule.rawValue),
            "error_rate": rounded(evidence.errorRate, 10_000), "p95_ms": rounded(evidence.p95Milliseconds, 10),
            "mean_ms": rounded(evidence.meanMilliseconds, 10), "requests": .number(Double(evidence.requests)),
            "instances": .array(evidence.instances.map { instance in
                .object([
                    "url": .string(instance.instance.description), "requests": .number(Double(instance.requests)),
                    "errors": .number(Double(instance.errors)), "p95_ms": rounded(instance.p95Milliseconds, 10),
                    "weight": .number(Double(instance.currentWeight)), "configured_weight": .number(Double(instance.configuredWeight)),
                ])
            }),
        ]
        if let tenant = key.tenant { object["tenant_id"] = .string(tenant.value) }
        return .object(object)
    }
}
