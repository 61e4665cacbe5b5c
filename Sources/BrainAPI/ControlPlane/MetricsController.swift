import BrainApplication
import BrainDomain
import BrainInfrastructure
import Hummingbird
import NIOCore

/// `GET /metrics` (public, Prometheus text format). Request counters and histograms are
/// recorded as traffic flows; point-in-time values — each instance's breaker state and health,
/// each service's health — are read here, at scrape time, from the boards that own them.
struct MetricsController<Context: RequestContext>: Sendable {
    let metrics: GatewayMetrics
    let registry: ServiceRegistry
    let health: HealthBoard
    let breakers: BreakerBoard
    var sharedState: SharedState? = nil

    func addRoutes(to router: Router<Context>) {
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition(appending: pointInTimeFamilies()))))
        }
    }

    /// Health: 1 healthy, 0.5 degraded, 0 down. Breaker: 0 closed, 1 half-open, 2 open. Only the
    /// services and instances registered now appear.
    private func pointInTimeFamilies() -> [GaugeFamilyText] {
        var serviceHealth = GaugeFamilyText(name: "brain_gateway_service_health", help: "Service health: 1 healthy, 0.5 degraded, 0 down.")
        var instanceHealth = GaugeFamilyText(name: "brain_gateway_instance_health", help: "Instance health: 1 healthy, 0.5 degraded, 0 down.")
        var breakerState = GaugeFamilyText(name: "brain_gateway_circuit_breaker_state", help: "Circuit breaker per instance: 0 closed, 1 half-open, 2 open.")
        let services = registry.directory.services
        for (service, entry) in zip(services, health.snapshot(of: services)) {
            let name = service.name.value
            serviceHealth.sample(["service": name], Self.value(entry.health.status))
            let states = breakers.existingBreakers(for: service)?.breakerStates ?? []
            for (index, instance) in service.instances.enumerated() {
                let address = instance.description
                let status = entry.health.instances[address]?.status ?? .healthy
                instanceHealth.sample(["service": name, "instance": address], Self.value(status))
                let breaker: Double = switch index < states.count ? states[index] : .closed(consecutiveFailures: 0) {
                case .closed: 0
                case .halfOpen: 1
                case .open: 2
                }
                breakerState.sample(["service": name, "instance": address], breaker)
            }
        }
        var families = [serviceHealth, instanceHealth, breakerState]
        if let sharedState {
            var up = GaugeFamilyText(name: "brain_gateway_shared_state_up", help: "1 while rate limits are decided in Redis, 0 while this replica decides alone.")
            up.sample([:], sharedState.isUp ? 1 : 0)
            var replicas = GaugeFamilyText(name: "brain_gateway_shared_state_replicas", help: "Live replicas by the last heartbeat.")
            replicas.sample([:], Double(sharedState.liveReplicas))
            var calls = GaugeFamilyText(name: "brain_gateway_redis_calls_total", help: "Redis calls by result: answered in time, or failed or timed out.", type: "counter")
            let counts = sharedState.calls
            calls.sample(["result": "ok"], Double(counts.answered))
            calls.sample(["result": "failed"], Double(counts.failed))
            families += [up, replicas, calls]
        }
        return families
    }

    static func value(_ status: ServiceStatus) -> Double {
        switch status {
        case .healthy: 1
        case .degraded: 0.5
        case .down: 0
        }
    }
}
