import BrainApplication
import BrainDomain
import BrainInfrastructure
import NIOCore

/// Circuit-breaker and load-balancer stages of one service, as one event loop sees it: the
/// service's breakers (shared by all loops), and this loop's balancer and retry budget (its
/// own, so a pick takes no lock). Lives as long as the registry snapshot it was built for.
final class ServiceTraffic {
    let service: ServiceRoute
    let breakers: ServiceBreakers
    var balancer: LoadBalancer
    var retryBudget: RetryBudget
    /// This loop's metric handles for the service.
    let metrics: RequestMetrics.ServiceHandles
    /// The breakers' readmission count this loop's balancer has caught up with.
    private var readmissionsSeen: UInt64
    /// The optimiser's windows: the service's, and each instance's by index.
    let evidence: ServiceEvidenceRecorder
    private let instanceWindows: [ServiceEvidenceRecorder.InstanceWindow]

    init(service: ServiceRoute, breakers: ServiceBreakers, metrics: RequestMetrics.ServiceHandles, evidence: ServiceEvidenceRecorder) {
        self.service = service
        self.breakers = breakers
        self.metrics = metrics
        self.evidence = evidence
        self.instanceWindows = service.instances.map { evidence.window(for: $0) }
        self.balancer = LoadBalancer(algorithm: service.loadBalancing, weights: service.weights)
        self.retryBudget = RetryBudget(service.retry)
        self.readmissionsSeen = breakers.currentSignal.readmissions
    }

    /// Breaker admission, then the balancer's pick among the admitted instances. An instance
    /// readmitted since the last pick first loses the latency penalty its failures left in this
    /// loop's balancer, or the balancer would keep avoiding it long after it recovered.
    func choose(now: Double, excluding excluded: Int?, random: inout SplitMix64) -> ServiceBreakers.Choice {
        let signal = breakers.currentSignal
        if signal.readmissions != readmissionsSeen {
            for instance in breakers.readmitted(since: readmissionsSeen) { balancer.readmit(instance, now: now) }
            readmissionsSeen = signal.readmissions
        }
        return breakers.choose(now: now, signal: signal) { admitted in
            balancer.pick(now: now, excluding: excluded, using: &random, admitted: admitted)
        }
    }
}

extension ServiceTraffic {
    /// How an attempt on `index` ended (`status` the upstream's, 0 when it gave none), told to
    /// this loop's balancer, the shared breakers and the optimiser's window. A 429 is the
    /// instance pushing back: not a breaker failure, but to the balancer it costs what a
    /// failure costs, so answering "too many requests" quickly never wins an instance traffic.
    func record(_ outcome: ServiceBreakers.Outcome, instance index: Int, latencySeconds: Double?, status: Int, now: Double) {
        switch outcome {
        case .abandoned:
            balancer.requestAbandoned(index)
        case .success, .failure:
            balancer.requestFinished(index, latencySeconds: status == 429 ? nil : latencySeconds, now: now)
            let error = outcome == .failure || TrafficSample.isError(status: status)
            instanceWindows[index].window.record(
                error: error, microseconds: Int((latencySeconds ?? 0) * 1e6), at: UInt64(max(0, now) * 1e9))
        }
        breakers.record(outcome, instance: index, now: now)
    }
}

/// Every service's `ServiceTraffic` for one event loop. Rebuilt lazily when the registry
/// publishes a new snapshot (breaker state survives: it lives in the shared `BreakerBoard`).
final class LoopTraffic {
    private let breakerBoard: BreakerBoard
    private var directory: ObjectIdentifier?
    private var byEntry: [ObjectIdentifier: ServiceTraffic] = [:]
    /// This loop's random source for balancing and retry jitter (no system call per use).
    var random: SplitMix64 = {
        var system = SystemRandomNumberGenerator()
        return SplitMix64(seed: system.next())
    }()

    /// What this loop served, for `/api/brain/metrics` (summed over loops on request).
    var tally = RequestTally()
    /// This loop's Prometheus handles.
    let metrics: RequestMetrics
    /// The optimiser's windows by service; they outlive registry snapshots.
    private var evidence: [ServiceKey: ServiceEvidenceRecorder] = [:]
    private let evidenceWindowNanoseconds: UInt64

    /// The tally with its per-service counts, which live in the services' metric handles.
    var currentTally: RequestTally {
        var copy = tally
        for (service, count) in metrics.servedCounts { copy.perService[service, default: 0] += count }
        return copy
    }

    init(breakerBoard: BreakerBoard, metrics: GatewayMetrics, evidenceWindowSeconds: Double) {
        self.breakerBoard = breakerBoard
        self.metrics = RequestMetrics(metrics: metrics)
        self.evidenceWindowNanoseconds = UInt64(max(0.1, evidenceWindowSeconds) * 1e9)
    }

    private func evidenceRecorder(for service: ServiceRoute) -> ServiceEvidenceRecorder {
        let key = ServiceKey(name: service.name, tenant: service.tenant)
        if let known = evidence[key] { return known }
        let made = ServiceEvidenceRecorder(windowNanoseconds: evidenceWindowNanoseconds)
        evidence[key] = made
        return made
    }

    /// This loop's windows ending now, for the services of `directory` (the others are
    /// forgotten).
    func evidenceSample(services: [ServiceRoute]) -> [ServiceKey: ServiceTrafficSample] {
        let now = NIODeadline.now()
        var samples: [ServiceKey: ServiceTrafficSample] = [:]
        var keep: [ServiceKey: ServiceEvidenceRecorder] = [:]
        for service in services {
            let key = ServiceKey(name: service.name, tenant: service.tenant)
            guard let recorder = evidence[key] else { continue }
            keep[key] = recorder
            samples[key] = recorder.sample(at: now, instances: service.instances)
        }
        evidence = keep
        return samples
    }

    func traffic(for entry: ServiceDirectory.Entry, in directory: ServiceDirectory) -> ServiceTraffic {
        let snapshot = ObjectIdentifier(directory)
        if self.directory != snapshot {
            self.directory = snapshot
            byEntry.removeAll(keepingCapacity: true)
        }
        let id = ObjectIdentifier(entry)
        if let known = byEntry[id] { return known }
        let traffic = ServiceTraffic(
            service: entry.service, breakers: breakerBoard.breakers(for: entry.service), metrics: metrics.handles(for: entry.service.name.value),
            evidence: evidenceRecorder(for: entry.service))
        byEntry[id] = traffic
        return traffic
    }
}

/// Requests served, by service and tenant, with their total time: kept per event loop (no
/// shared counter on the hot path) and summed when asked.
public struct RequestTally: Sendable {
    public var totalRequests = 0
    public var totalMilliseconds = 0.0
    public var perService: [String: Int] = [:]
    public var perTenant: [String: Int] = [:]

    /// Counts a request; its service's count goes to `handles` (no name lookup per request).
    mutating func record(_ handles: RequestMetrics.ServiceHandles, tenant: TenantID?, milliseconds: Double) {
        totalRequests += 1
        totalMilliseconds += milliseconds
        handles.served += 1
        if let tenant { perTenant[tenant.value, default: 0] += 1 }
    }

    mutating func add(_ other: RequestTally) {
        totalRequests += other.totalRequests
        totalMilliseconds += other.totalMilliseconds
        perService.merge(other.perService, uniquingKeysWith: +)
        perTenant.merge(other.perTenant, uniquingKeysWith: +)
    }
}

/// One `LoopTraffic` per event loop, like the upstream pools; built before serving.
public final class TrafficStates: @unchecked Sendable {
    // Each value is touched only from its own loop; the dictionary itself never changes.
    private let byLoop: [ObjectIdentifier: LoopTraffic]
    private let loops: [any EventLoop]

    /// - Parameter evidenceWindowSeconds: the optimiser's window (`optimizer.window_seconds`).
    public init(loops: [any EventLoop], breakerBoard: BreakerBoard, metrics: GatewayMetrics, evidenceWindowSeconds: Double = 300) {
        var byLoop: [ObjectIdentifier: LoopTraffic] = [:]
        for loop in loops {
            byLoop[ObjectIdentifier(loop as AnyObject)] = LoopTraffic(
                breakerBoard: breakerBoard, metrics: metrics, evidenceWindowSeconds: evidenceWindowSeconds)
        }
        self.byLoop = byLoop
        self.loops = loops
    }

    func traffic(for eventLoop: any EventLoop) -> LoopTraffic? { byLoop[ObjectIdentifier(eventLoop as AnyObject)] }

    /// The sum of every loop's tally, each read on its own loop.
    public func tally() async -> RequestTally {
        var total = RequestTally()
        for loop in loops {
            guard let traffic = byLoop[ObjectIdentifier(loop as AnyObject)] else { continue }
            let box = UncheckedBox(traffic)
            if let part = try? await loop.submit({ box.value.currentTally }).get() { total.add(part) }
        }
        return total
    }
}

extension TrafficStates: TrafficEvidenceSource {
    /// Every loop's windows for `services`, each read on its own loop, summed.
    public func evidence(for services: [ServiceRoute]) async -> [ServiceKey: ServiceTrafficSample] {
        var total: [ServiceKey: ServiceTrafficSample] = [:]
        for loop in loops {
            guard let traffic = byLoop[ObjectIdentifier(loop as AnyObject)] else { continue }
            let box = UncheckedBox(traffic)
            guard let part = try? await loop.submit({ box.value.evidenceSample(services: services) }).get() else { continue }
            for (key, sample) in part { total[key, default: ServiceTrafficSample()].add(sample) }
        }
        return total
    }
}

/// Hands a loop-bound object to a task that runs on that loop.
private struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
