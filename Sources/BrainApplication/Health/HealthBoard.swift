import BrainDomain
import Synchronization

/// The latest health of every service and instance, as the health monitor and failed requests
/// report it. `/health` reads this board; it never probes anything itself.
public final class HealthBoard: Sendable {
    public struct InstanceHealth: Sendable, Equatable {
        public var status: ServiceStatus = .healthy
        public var consecutiveFailures = 0
        public var responseTimeMilliseconds: Double?
        public var lastError: String?
        /// False until the first probe answered.
        public var probed = false
        /// The instance's circuit breaker is open: it is `down` whatever a failed probe says.
        public var breakerOpen = false
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

    /// Records a probe result for one instance and derives its service's status:
    /// healthy → degraded on a failure → down after `failureThreshold` failures in a row.
    /// Returns whether the instance is now `down` by its probes.
    @discardableResult
    public func recordProbe(
        service: ServiceRoute, instance: UpstreamInstance, succeeded: Bool,
        responseTimeMilliseconds: Double?, error: String?
    ) -> Bool {
        let key = Key(service: service.name.value, instance: instance.description)
        let threshold = service.circuitBreaker.failureThreshold
        var down = false
        update(service: service) { state in
            var health = state.instances[key] ?? InstanceHealth()
            health.probed = true
            health.responseTimeMilliseconds = responseTimeMilliseconds
            if succeeded {
                health.consecutiveFailures = 0
                health.status = .healthy
                health.lastError = nil
            } else {
                health.consecutiveFailures += 1
                health.status = health.consecutiveFailures >= threshold || health.breakerOpen ? .down : .degraded
                health.lastError = error
            }
            down = health.consecutiveFailures >= threshold
            state.instances[key] = health
        }
        return down
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
            } else {
                health.status = .healthy
                health.consecutiveFailures = 0
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
