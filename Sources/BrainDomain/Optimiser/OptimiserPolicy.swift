/// Whether the optimiser carries out its decisions, only records them, or does not run.
public enum OptimiserMode: String, Sendable, CaseIterable {
    case act
    case dryRun = "dry_run"
    case off
}

/// The optimiser's thresholds and bounds (`optimizer:` in the configuration).
public struct OptimiserSettings: Sendable, Equatable {
    public var mode = OptimiserMode.act
    /// Seconds between analyses, and the length of the window each analysis reads.
    public var intervalSeconds = 60.0
    public var windowSeconds = 300.0
    /// Fewer requests in a window → no decision for that service.
    public var minRequests = 20
    public var latencyP95Milliseconds = 1000.0
    public var errorRate = 0.05
    /// A breach must hold this many analyses in a row, and so must a recovery.
    public var consecutiveWindows = 2
    /// The most one analysis may move an instance's weight, in percent of its configured weight.
    public var maxWeightChangePercent = 50
    /// An instance's weight never goes below this share of its configured weight.
    public var minWeightPercent = 10
    /// After an incident ends, the same rule does not open another for this long.
    public var cooldownSeconds = 600.0
    /// Called once per latency incident with the evidence.
    public var optimizationAgent = "optimization-crew"
    /// Run once per error incident with the evidence.
    public var selfHealingWorkflow = "self-heal"

    public init() {}
}

/// One analysis window of one instance.
public struct InstanceEvidence: Sendable, Equatable {
    public var instance: UpstreamInstance
    public var requests: Int
    /// Failed answers, 5xx and 429 (never counted as fast successes).
    public var errors: Int
    public var p95Milliseconds: Double
    /// Its weight in the service document, and the weight it has now.
    public var configuredWeight: Int
    public var currentWeight: Int

    public init(instance: UpstreamInstance, requests: Int, errors: Int, p95Milliseconds: Double, configuredWeight: Int, currentWeight: Int) {
        self.instance = instance
        self.requests = requests
        self.errors = errors
        self.p95Milliseconds = p95Milliseconds
        self.configuredWeight = configuredWeight
        self.currentWeight = currentWeight
    }
}

/// One analysis window of one service.
public struct ServiceEvidence: Sendable, Equatable {
    public var requests: Int
    public var errors: Int
    public var p95Milliseconds: Double
    /// The mean of the successful answers: a reduction of a slow instance's share shows here
    /// at once, while the p95 stays high as long as that instance carries 5 % of requests.
    public var meanMilliseconds: Double
    public var instances: [InstanceEvidence]

    public var errorRate: Double { requests == 0 ? 0 : Double(errors) / Double(requests) }

    public init(requests: Int, errors: Int, p95Milliseconds: Double, meanMilliseconds: Double? = nil, instances: [InstanceEvidence]) {
        self.requests = requests
        self.errors = errors
        self.p95Milliseconds = p95Milliseconds
        self.meanMilliseconds = meanMilliseconds ?? p95Milliseconds
        self.instances = instances
    }
}

/// What one analysis decided for a service. The loop carries them out (or only records them in
/// `dry_run`) and publishes each as an `AutonomousDecision` event.
public enum OptimiserDecision: Sendable, Equatable {
    public enum Rule: String, Sendable { case latency, errors }

    /// A slow instance loses weight (bounded per analysis, never below the floor).
    case setWeight(UpstreamInstance, from: Int, to: Int, rule: Rule)
    /// Once per latency incident: the optimisation agent gets the evidence.
    case callOptimisationAgent
    /// Once per error incident: the self-healing workflow runs with the evidence.
    case runSelfHealing
    /// The incident is over (weights are back where they were configured).
    case recovered(Rule)
    /// A weight change did not improve the service within two analyses: it is undone, and
    /// the incident makes no more changes.
    case rolledBack(Rule)
}

/// The optimiser's memory of one service between analyses, and the pure rule deciding each
/// analysis (evidence + settings + this memory → decisions). Hysteresis: a breach must hold
/// `consecutiveWindows` analyses before anything happens and so must a recovery; one agent
/// call or self-healing run per incident; weights move in bounded steps, only on services with
/// several instances, never below the floor, and the fastest instance is never reduced; a
/// reduction that lowers neither the service's p95 nor its mean latency within two analyses is
/// rolled back once.
public struct OptimiserPolicy: Sendable, Equatable {
    struct Incident: Sendable, Equatable {
        var breaches = 0
        var recoveries = 0
        var open = false
        var endedAt: Double?
        /// Set when the incident's reductions were rolled back: it changes no more weights.
        var frozen = false
    }

    private var latency = Incident()
    private var errors = Incident()
    /// The weights before the first unverified reduction, and the service's latency then.
    private var lastReduction: (weights: [UpstreamInstance: Int], p95: Double, mean: Double, analyses: Int)?

    public init() {}

    public static func == (lhs: OptimiserPolicy, rhs: OptimiserPolicy) -> Bool {
        lhs.latency == rhs.latency && lhs.errors == rhs.errors && lhs.lastReduction?.weights == rhs.lastReduction?.weights
    }

    public var latencyIncidentOpen: Bool { latency.open }
    public var errorIncidentOpen: Bool { errors.open }

    public mutating func analyse(_ evidence: ServiceEvidence, settings: OptimiserSettings, now: Double) -> [OptimiserDecision] {
        guard evidence.requests >= settings.minRequests else { return [] }
        var decisions: [OptimiserDecision] = []
        // Errors first: a failing service is healed before it is tuned.
        let failing = evidence.errorRate > settings.errorRate
        if Self.step(&errors, breached: failing, settings: settings, now: now) == .opened {
            decisions.append(.runSelfHealing)
        }
        if !failing, errors.open, errors.recoveries >= settings.consecutiveWindows {
            errors.open = false
            errors.endedAt = now
            decisions.append(.recovered(.errors))
        }
        let slow = evidence.p95Milliseconds > settings.latencyP95Milliseconds
        let transition = Self.step(&latency, breached: slow, settings: settings, now: now)
        if transition == .opened { decisions.append(.callOptimisationAgent) }
        if latency.open {
            decisions += slow ? reduce(evidence, settings: settings) : restore(evidence, settings: settings, now: now)
        }
        return decisions
    }

    private enum Transition { case none, opened }

    /// Counts breaches and recoveries; opens the incident once a breach has held long enough
    /// (and the rule's cooldown has passed).
    private static func step(_ incident: inout Incident, breached: Bool, settings: OptimiserSettings, now: Double) -> Transition {
        if breached {
            incident.breaches += 1
            incident.recoveries = 0
        } else {
            incident.recoveries += 1
            incident.breaches = 0
        }
        guard breached, !incident.open, incident.breaches >= settings.consecutiveWindows else { return .none }
        if let ended = incident.endedAt, now - ended < settings.cooldownSeconds { return .none }
        incident = Incident(breaches: incident.breaches, recoveries: 0, open: true, endedAt: nil, frozen: false)
        return .opened
    }

    /// Instances slower than the service's median lose up to `maxWeightChangePercent` of their
    /// configured weight, down to the floor; the fastest keeps its weight.
    private mutating func reduce(_ evidence: ServiceEvidence, settings: OptimiserSettings) -> [OptimiserDecision] {
        if var last = lastReduction {
            last.analyses += 1
            lastReduction = last
            // Improved: the p95 fell, or the mean fell by a tenth (the share moved away from
            // the slow instance); the reductions so far stand.
            let improved = evidence.p95Milliseconds < last.p95 || evidence.meanMilliseconds <= last.mean * 0.9
            if last.analyses >= 2, improved {
                lastReduction = nil
            } else if last.analyses >= 2 {
                // The change did not help: undo it, once, and change nothing more this incident.
                lastReduction = nil
                latency.frozen = true
                var decisions: [OptimiserDecision] = []
                for instance in evidence.instances {
                    if let before = last.weights[instance.instance], before != instance.currentWeight {
                        decisions.append(.setWeight(instance.instance, from: instance.currentWeight, to: before, rule: .latency))
                    }
                }
                return decisions + [.rolledBack(.latency)]
            }
        }
        guard !latency.frozen, evidence.instances.count > 1 else { return [] }
        let measured = evidence.instances.filter { $0.requests > 0 }
        guard measured.count > 1 else { return [] }
        // An instance that fails often is not fast, however quickly it fails (a 429 or a
        // refused connection answers in microseconds): it ranks as the slowest.
        func ranking(_ instance: InstanceEvidence) -> Double {
            Double(instance.errors) > Double(instance.requests) * settings.errorRate ? .infinity : instance.p95Milliseconds
        }
        let sorted = measured.map(ranking).sorted()
        // The lower median: with two instances, the slower one is above it.
        let median = sorted[(sorted.count - 1) / 2]
        let fastest = measured.min { ranking($0) < ranking($1) }?.instance
        var decisions: [OptimiserDecision] = []
        for instance in measured where ranking(instance) > median && instance.instance != fastest {
            let floor = max(1, (instance.configuredWeight * settings.minWeightPercent + 99) / 100)
            let step = max(1, instance.configuredWeight * settings.maxWeightChangePercent / 100)
            let target = max(floor, instance.currentWeight - step)
            guard target < instance.currentWeight else { continue }
            decisions.append(.setWeight(instance.instance, from: instance.currentWeight, to: target, rule: .latency))
        }
        if !decisions.isEmpty, lastReduction == nil {
            lastReduction = (
                evidence.instances.reduce(into: [:]) { $0[$1.instance] = $1.currentWeight }, evidence.p95Milliseconds, evidence.meanMilliseconds, 0)
        }
        return decisions
    }

    /// After a recovery has held: weights climb back in bounded steps; when all are back, the
    /// incident ends.
    private mutating func restore(_ evidence: ServiceEvidence, settings: OptimiserSettings, now: Double) -> [OptimiserDecision] {
        guard latency.recoveries >= settings.consecutiveWindows else { return [] }
        lastReduction = nil
        var decisions: [OptimiserDecision] = []
        for instance in evidence.instances where instance.currentWeight < instance.configuredWeight {
            let step = max(1, instance.configuredWeight * settings.maxWeightChangePercent / 100)
            decisions.append(.setWeight(instance.instance, from: instance.currentWeight, to: min(instance.configuredWeight, instance.currentWeight + step), rule: .latency))
        }
        let allBack = evidence.instances.allSatisfy { instance in
            decisions.contains { if case .setWeight(instance.instance, _, instance.configuredWeight, _) = $0 { return true } else { return false } }
                || instance.currentWeight >= instance.configuredWeight
        }
        if allBack {
            latency.open = false
            latency.endedAt = now
            decisions.append(.recovered(.latency))
        }
        return decisions
    }
}
