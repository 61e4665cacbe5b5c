import Atomics
import BrainDomain
import Synchronization

/// The circuit breakers of one service's instances, shared by every event loop: "5 consecutive
/// failures" means five in a row on that instance, whichever connection carried them.
///
/// The domain's `BreakerGroup` decides; this class only serialises access to it and publishes
/// what happened (events, health, counters). While every breaker is closed with no failure
/// counted and no probe says an instance is down — nearly always — a request costs one atomic
/// load to be admitted and nothing to record its success: the lock is taken only once something
/// went wrong.
public final class ServiceBreakers: Sendable {
    public let service: ServiceRoute
    private let state: Mutex<State>
    private let calm = ManagedAtomic<Bool>(true)
    private let observer: any BreakerObserver

    private struct State {
        var group: BreakerGroup
        /// Instances the active health monitor found down (after `failure_threshold` probes).
        var probeDown: [Bool]
    }

    public enum Choice: Equatable, Sendable {
        /// Send the request to instance `index`; `probe` when it is a half-open probe.
        case instance(Int, probe: Bool)
        /// No instance is admitted: answer 503 with this `Retry-After`.
        case noneAdmitted(retryAfterSeconds: Double)
    }

    public enum Outcome: Sendable {
        case success, failure, abandoned
    }

    init(service: ServiceRoute, observer: any BreakerObserver) {
        self.service = service
        self.observer = observer
        self.state = Mutex(State(
            group: BreakerGroup(thresholds: service.circuitBreaker, instanceCount: service.instances.count),
            probeDown: Array(repeating: false, count: service.instances.count)))
    }

    /// Chooses the instance for a request: `pick` is the load balancer, handed the admission
    /// test. It runs under the lock only when some instance is not in normal rotation.
    public func choose(now: Double, _ pick: (_ admitted: (Int) -> Bool) -> Int?) -> Choice {
        if calm.load(ordering: .relaxed) {
            guard let index = pick({ _ in true }) else { return .noneAdmitted(retryAfterSeconds: 1) }
            return .instance(index, probe: false)
        }
        var transition: (Int, CircuitBreaker.Transition)?
        let choice: Choice = state.withLock { state in
            let honourProbes = Self.probeVerdictsHonoured(state)
            let picked = pick { i in
                state.group.wouldAdmit(i, now: now) && !(honourProbes && state.probeDown[i])
            }
            guard let index = picked else {
                return .noneAdmitted(retryAfterSeconds: state.group.secondsUntilAdmission(now: now))
            }
            let (admission, change) = state.group.admit(index, now: now)
            if let change { transition = (index, change) }
            switch admission {
            case .admitted: return .instance(index, probe: false)
            case .probe: return .instance(index, probe: true)
            case .rejected(let after): return .noneAdmitted(retryAfterSeconds: after)
            }
        }
        if let (index, change) = transition { observer.breaker(of: service, instance: index, changed: change) }
        return choice
    }

    /// Records how a request admitted to `instance` ended.
    public func record(_ outcome: Outcome, instance: Int, now: Double) {
        if case .success = outcome, calm.load(ordering: .relaxed) { return }
        let transition: CircuitBreaker.Transition? = state.withLock { state in
            defer { updateCalm(state) }
            switch outcome {
            case .success: return state.group.recordSuccess(instance, now: now)
            case .failure: return state.group.recordFailure(instance, now: now)
            case .abandoned:
                state.group.recordAbandoned(instance)
                return nil
            }
        }
        if let transition { observer.breaker(of: service, instance: instance, changed: transition) }
    }

    /// The active health monitor's verdict on an instance: `down` after the service's
    /// failure threshold of failed probes, `up` on any success — which also lets an open breaker
    /// probe at once, so an instance comes back without waiting for its open time to pass.
    public func healthProbe(instance: Int, up: Bool, now: Double) {
        state.withLock { state in
            state.probeDown[instance] = !up
            if up { state.group.healthProbeSucceeded(instance, now: now) }
            updateCalm(state)
        }
    }

    /// Probe verdicts are obeyed while, together with open breakers, they leave the ejection cap
    /// respected; beyond it they are ignored (Envoy's panic mode): a health path that fails on
    /// every instance more likely means a broken probe than a service to switch off.
    private static func probeVerdictsHonoured(_ state: State) -> Bool {
        var out = 0
        for i in state.probeDown.indices where state.probeDown[i] || state.group.breakers[i].isEjected { out += 1 }
        return out <= state.group.maxEjected
    }

    private func updateCalm(_ state: State) {
        calm.store(state.group.isCalm && !state.probeDown.contains(true), ordering: .relaxed)
    }

    /// For status pages and tests: each instance's breaker state.
    public var breakerStates: [CircuitBreaker.State] { state.withLock { $0.group.breakers.map(\.state) } }
}

/// Told about every breaker transition (events, health board, counters).
protocol BreakerObserver: Sendable {
    func breaker(of service: ServiceRoute, instance: Int, changed: CircuitBreaker.Transition)
}

/// Every service's `ServiceBreakers`, found by (tenant, name). A registry change that keeps a
/// service's instances and breaker settings keeps its breakers (their state survives an
/// unrelated edit, such as a weight change); one that changes them starts fresh.
public final class BreakerBoard: Sendable, BreakerObserver {
    private let byService = Mutex<[String: ServiceBreakers]>([:])
    private let health: HealthBoard
    private let events: any DomainEventSink
    public let counters: TrafficCounters
    private let now: @Sendable () -> Double

    public init(health: HealthBoard, events: any DomainEventSink, counters: TrafficCounters, now: @escaping @Sendable () -> Double) {
        self.health = health
        self.events = events
        self.counters = counters
        self.now = now
    }

    public func breakers(for service: ServiceRoute) -> ServiceBreakers {
        let key = Self.key(service)
        return byService.withLock { all in
            if let existing = all[key], existing.service.instances == service.instances,
               existing.service.circuitBreaker == service.circuitBreaker
            {
                return existing
            }
            let fresh = ServiceBreakers(service: service, observer: self)
            all[key] = fresh
            return fresh
        }
    }

    /// The breakers of a service if any request or probe has needed them yet.
    public func existingBreakers(for service: ServiceRoute) -> ServiceBreakers? {
        byService.withLock { $0[Self.key(service)] }
    }

    private static func key(_ service: ServiceRoute) -> String {
        (service.tenant?.value ?? "") + "/" + service.name.value
    }

    func breaker(of service: ServiceRoute, instance index: Int, changed transition: CircuitBreaker.Transition) {
        let instance = service.instances[index]
        switch transition {
        case .opened(let seconds):
            counters.breakerOpened()
            health.recordBreaker(service: service, instance: instance, open: true)
            events.publish([.circuitOpened(service: service.name, tenant: service.tenant, instance: instance.description, seconds: seconds)], at: now())
        case .closed:
            health.recordBreaker(service: service, instance: instance, open: false)
            events.publish([.circuitClosed(service: service.name, tenant: service.tenant, instance: instance.description)], at: now())
        case .halfOpened:
            break
        }
    }
}
