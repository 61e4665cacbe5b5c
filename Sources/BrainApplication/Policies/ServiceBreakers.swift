import Atomics
import BrainDomain
import Synchronization

/// The circuit breakers of one service's instances, shared by every event loop: "5 consecutive
/// failures" means five in a row on that instance, whichever connection carried them. It also
/// holds the active health checker's verdicts, so that one admission test covers both.
///
/// The domain's `BreakerGroup` decides; this class only serialises access to it and publishes
/// what happened (events, health, counters). While every breaker is closed with no failure
/// counted and no probe says an instance is down — nearly always — a request costs one atomic
/// load to be admitted and nothing to record its success: the lock is taken only once something
/// went wrong.
public final class ServiceBreakers: Sendable {
    public let service: ServiceRoute
    private let state: Mutex<State>
    /// `readmissions << 1 | calm`: one load tells a loop both whether the lock is needed and
    /// whether an instance came back since it last looked.
    private let signal = ManagedAtomic<UInt64>(1)
    private let observer: any BreakerObserver
    /// Seconds between health probes: how long a probed-out instance surely stays out.
    private let probeIntervalSeconds: Double

    private struct State {
        var group: BreakerGroup
        /// Instances the active health checker took out of rotation.
        var probeDown: [Bool]
        /// How many readmissions happened in all, and the count at each instance's latest.
        var readmissions: UInt64 = 0
        var readmittedAt: [UInt64]
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

    /// What a loop reads before choosing: see `signal`.
    public struct Signal: Sendable, Equatable {
        let raw: UInt64
        public var calm: Bool { raw & 1 == 1 }
        public var readmissions: UInt64 { raw >> 1 }
    }

    init(service: ServiceRoute, observer: any BreakerObserver, probeIntervalSeconds: Double) {
        self.service = service
        self.observer = observer
        self.probeIntervalSeconds = probeIntervalSeconds
        self.state = Mutex(State(
            group: BreakerGroup(thresholds: service.circuitBreaker, instanceCount: service.instances.count),
            probeDown: Array(repeating: false, count: service.instances.count),
            readmittedAt: Array(repeating: 0, count: service.instances.count)))
    }

    public var currentSignal: Signal { Signal(raw: signal.load(ordering: .relaxed)) }

    /// The instances readmitted (probes or a closing breaker) after `readmissions` had been
    /// seen, so a loop's balancer can forget the latency penalty of their failures.
    public func readmitted(since readmissions: UInt64) -> [Int] {
        state.withLock { state in state.readmittedAt.indices.filter { state.readmittedAt[$0] > readmissions } }
    }

    /// Chooses the instance for a request: `pick` is the load balancer, handed the admission
    /// test. It runs under the lock only when some instance is not in normal rotation. An
    /// instance the health checker took out is never admitted: with every instance out the
    /// answer is 503 with a `Retry-After`, not a request sent to a known-dead instance.
    public func choose(now: Double, signal: Signal? = nil, _ pick: (_ admitted: (Int) -> Bool) -> Int?) -> Choice {
        if (signal ?? currentSignal).calm {
            guard let index = pick({ _ in true }) else { return .noneAdmitted(retryAfterSeconds: 1) }
            return .instance(index, probe: false)
        }
        var transition: (Int, CircuitBreaker.Transition)?
        let choice: Choice = state.withLock { state in
            let picked = pick { i in !state.probeDown[i] && state.group.wouldAdmit(i, now: now) }
            guard let index = picked else {
                return .noneAdmitted(retryAfterSeconds: secondsUntilAdmission(state, now: now))
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

    /// The soonest any instance could be admitted: a probed-out one not before the next probe.
    private func secondsUntilAdmission(_ state: State, now: Double) -> Double {
        var soonest = Double.infinity
        for i in state.probeDown.indices {
            let breakerWait = state.group.secondsUntilAdmission(i, now: now)
            soonest = min(soonest, state.probeDown[i] ? max(probeIntervalSeconds, breakerWait) : breakerWait)
        }
        return soonest == .infinity ? 1 : max(1, soonest)
    }

    /// Records how a request admitted to `instance` ended.
    public func record(_ outcome: Outcome, instance: Int, now: Double) {
        if case .success = outcome, currentSignal.calm { return }
        let transition: CircuitBreaker.Transition? = state.withLock { state in
            defer { updateSignal(state) }
            switch outcome {
            case .success:
                let change = state.group.recordSuccess(instance, now: now)
                if change == .closed { Self.readmit(instance, &state) }
                return change
            case .failure: return state.group.recordFailure(instance, now: now)
            case .abandoned:
                state.group.recordAbandoned(instance)
                return nil
            }
        }
        if let transition { observer.breaker(of: service, instance: instance, changed: transition) }
    }

    /// The active health checker's verdict after a probe: `down` while the service's
    /// `health_check` thresholds keep the instance out. A successful probe also lets an open
    /// breaker probe at once, so an instance comes back without waiting for its open time.
    public func healthProbe(instance: Int, down: Bool, succeeded: Bool, now: Double) {
        state.withLock { state in
            let wasDown = state.probeDown[instance]
            state.probeDown[instance] = down
            if succeeded && !down { state.group.healthProbeSucceeded(instance, now: now) }
            if wasDown && !down { Self.readmit(instance, &state) }
            updateSignal(state)
        }
    }

    private static func readmit(_ instance: Int, _ state: inout State) {
        state.readmissions += 1
        state.readmittedAt[instance] = state.readmissions
    }

    private func updateSignal(_ state: State) {
        let calm: UInt64 = state.group.isCalm && !state.probeDown.contains(true) ? 1 : 0
        signal.store(state.readmissions << 1 | calm, ordering: .relaxed)
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
    private let probeIntervalSeconds: Double

    /// - Parameter probeIntervalSeconds: `HEALTH_CHECK_INTERVAL`, for the `Retry-After` of a
    ///   service whose instances the health checker took out.
    public init(
        health: HealthBoard, events: any DomainEventSink, counters: TrafficCounters, probeIntervalSeconds: Double = 30,
        now: @escaping @Sendable () -> Double
    ) {
        self.probeIntervalSeconds = probeIntervalSeconds
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
            let fresh = ServiceBreakers(service: service, observer: self, probeIntervalSeconds: probeIntervalSeconds)
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
