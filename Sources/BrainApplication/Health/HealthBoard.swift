import BrainDomain
import Synchronization

/// The latest health of every service and instance, as the health monitor and failed requests
/// report it. `/health` reads this board; it never probes anything itself.
public final class HealthBoard: Sendable {
    public struct InstanceHealth: Sendable, Equatable {
        public var status: ServiceStatus = .healthy
        /// The active health checker's counts and verdict (the service's `health_check`).
        public var probes = ActiveHealthCheck(policy: .default)
        public var responseTimeMilliseconds: Double?
        public var lastError: String?
        /// False until the first probe answered.
        public var probed = false
        /// The instance's circuit breaker is open: it is `down` whatever a failed probe says.
        public var breakerOpen = false

        public var consecutiveFailures: Int { probes.failuresInARow }
    }

    public struct ServiceHealth: Sendable, Equatable {
        public var status: ServiceStatus
        public var responseTimeMilliseconds: Double?
        public var instances: [String: InstanceHealth]
    }

    private struct Key: Hashable {
        var service: String
        var instance: String
    }

    private struct State {
        var instances: [Key: InstanceHealth] = [:]
        var serviceStatus: [String: ServiceStatus] = [:]
    }

    private let state = Mutex(State())
    private let events: any DomainEventSink
    private let now: @Sendable () -> Double

    public init(events: any DomainEventSink, now: @escaping @Sendable () -> Double) {
        self.events = events
        self.now = now
    }

    /// What one probe result changed for its instance.
    public struct ProbeVerdict: Sendable, Equatable {
        /// Out of rotation by its probes (`unhealthy_threshold` failures, not yet back).
        public var isDown: Bool
        public var transition: ActiveHealthCheck.Transition?
    }

    /// Records a probe result for one instance and derives its status: a failure makes it
    /// `degraded`, `unhealthy_threshold` failures in a row `down`; `healthy_threshold` successes
    /// in a row bring a down instance back. A changed `health_check` policy starts the counts
    /// afresh.
    @discardableResult
    public func recordProbe(
        service: ServiceRoute, instance: UpstreamInstance, succeeded: Bool,
        responseTimeMilliseconds: Double?, error: String?
    ) -> ProbeVerdict {
        let key = Key(service: service.name.value, instance: instance.description)
        var verdict = ProbeVerdict(isDown: false, transition: nil)
        update(service: service) { state in
            var health = state.instances[key] ?? InstanceHealth()
            if health.probes.policy != service.healthCheck { health.probes = ActiveHealthCheck(policy: service.healthCheck) }
            health.probed = true
            health.responseTimeMilliseconds = responseTimeMilliseconds
            if succeeded {
                verdict.transition = health.probes.probeSucceeded()
                if !health.probes.isDown {
                    health.status = .healthy
                    health.lastError = nil
                }
            } else {
                verdict.transition = health.probes.probeFailed()
                health.status = health.probes.isDown || health.breakerOpen ? .down : .degraded
                health.lastError = error
            }
            verdict.isDown = health.probes.isDown
            state.instances[key] = health
        }
        return verdict
    }

    /// A live request to this instance failed (connect error, reset, timeout): the instance is
    /// degraded at once; only probes (and, later, the breaker) decide it is down or back.
    public func recordRequestFailure(service: ServiceRoute, instance: UpstreamInstance, error: String) {
        let key = Key(service: service.name.value, instance: instance.description)
        update(service: service) { state in
            var health = state.instances[key] ?? InstanceHealth()
            if health.status == .healthy { health.status = .degraded }
            health.lastError = error
            state.instances[key] = health
        }
    }

    /// An instance's breaker opened (it is `down`: ejected) or closed (`healthy` again).
    public func recordBreaker(service: ServiceRoute, instance: UpstreamInstance, open: Bool) {
        let key = Key(service: service.name.value, instance: instance.description)
        update(service: service) { state in
            var health = state.instances[key] ?? InstanceHealth()
            health.breakerOpen = open
            if open {
                health.status = .down
            } else if !health.probes.isDown {
                health.status = .healthy
                health.lastError = nil
            }
            state.instances[key] = health
        }
    }

    private func update(service: ServiceRoute, _ change: (inout State) -> Void) {
        let transition: (ServiceStatus, ServiceStatus)? = state.withLock { state in
            change(&state)
            let statuses = service.instances.map { state.instances[Key(service: service.name.value, instance: $0.description)]?.status ?? .healthy }
            let newStatus = Self.rollUp(statuses)
            let old = state.serviceStatus[service.name.value] ?? .healthy
            state.serviceStatus[service.name.value] = newStatus
            return old == newStatus ? nil : (old, newStatus)
        }
        if let (from, to) = transition {
            events.publish([.serviceHealthChanged(service: service.name, tenant: service.tenant, from: from, to: to)], at: now())
        }
    }

    /// All instances healthy → healthy; all down → down; anything else → degraded.
    static func rollUp(_ statuses: [ServiceStatus]) -> ServiceStatus {
        if statuses.allSatisfy({ $0 == .healthy }) { return .healthy }
        if statuses.allSatisfy({ $0 == .down }) { return .down }
        return .degraded
    }

    /// The health of each given service, for `/health`.
    public func snapshot(of services: [ServiceRoute]) -> [(name: String, health: ServiceHealth)] {
        state.withLock { state in
            services.map { service in
                var instances: [String: InstanceHealth] = [:]
                var times: [Double] = []
                for instance in service.instances {
                    let h = state.instances[Key(service: service.name.value, instance: instance.description)] ?? InstanceHealth()
                    instances[instance.description] = h
                    if let t = h.responseTimeMilliseconds { times.append(t) }
                }
                let average = times.isEmpty ? nil : times.reduce(0, +) / Double(times.count)
                return (service.name.value, ServiceHealth(
                    status: state.serviceStatus[service.name.value] ?? .healthy,
                    responseTimeMilliseconds: average, instances: instances))
            }
        }
    }
}
