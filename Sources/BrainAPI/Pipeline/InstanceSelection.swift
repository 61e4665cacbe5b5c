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

    init(service: ServiceRoute, breakers: ServiceBreakers, metrics: RequestMetrics.ServiceHandles) {
        self.service = service
        self.breakers = breakers
        self.metrics = metrics
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
    /// How an attempt on `index` ended, told to this loop's balancer and the shared breakers.
    func record(_ outcome: ServiceBreakers.Outcome, instance index: Int, latencySeconds: Double?, now: Double) {
        switch outcome {
        case .abandoned: balancer.requestAbandoned(index)
        case .success, .failure: balancer.requestFinished(index, latencySeconds: latencySeconds, now: now)
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

    /// The tally with its per-service counts, which live in the services' metric handles.
    var currentTally: RequestTally {
        var copy = tally
        for (service, count) in metrics.servedCounts { copy.perService[service, default: 0] += count }
        return copy
    }

    init(breakerBoard: BreakerBoard, metrics: GatewayMetrics) {
        self.breakerBoard = breakerBoard
        self.metrics = RequestMetrics(metrics: metrics)
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
            service: entry.service, breakers: breakerBoard.breakers(for: entry.service), metrics: metrics.handles(for: entry.service.name.value))
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

    public init(loops: [any EventLoop], breakerBoard: BreakerBoard, metrics: GatewayMetrics) {
        var byLoop: [ObjectIdentifier: LoopTraffic] = [:]
        for loop in loops { byLoop[ObjectIdentifier(loop as AnyObject)] = LoopTraffic(breakerBoard: breakerBoard, metrics: metrics) }
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

/// Hands a loop-bound object to a task that runs on that loop.
private struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
