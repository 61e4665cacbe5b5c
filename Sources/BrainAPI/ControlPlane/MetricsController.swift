import BrainApplication
import BrainDomain
import BrainInfrastructure
import Hummingbird
import NIOCore

/// `GET /metrics` (public, Prometheus text format). Request counters and histograms are
/// recorded as traffic flows; point-in-time values — each instance's breaker state and health,
/// each service's health — are set here, at scrape time, from the boards that own them.
struct MetricsController<Context: RequestContext>: Sendable {
    let metrics: GatewayMetrics
    let registry: ServiceRegistry
    let health: HealthBoard
    let breakers: BreakerBoard

    func addRoutes(to router: Router<Context>) {
        router.get("/metrics") { _, _ in
            self.refreshGauges()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
    }

    /// Health: 1 healthy, 0.5 degraded, 0 down. Breaker: 0 closed, 1 half-open, 2 open.
    private func refreshGauges() {
        let services = registry.directory.services
        for (service, entry) in zip(services, health.snapshot(of: services)) {
            let name = service.name.value
            metrics.gauge("brain_gateway_service_health", [("service", name)]).record(Self.value(entry.health.status))
            let states = breakers.existingBreakers(for: service)?.breakerStates ?? []
            for (index, instance) in service.instances.enumerated() {
                let labels = [("service", name), ("instance", instance.description)]
                let status = entry.health.instances[instance.description]?.status ?? .healthy
                metrics.gauge("brain_gateway_instance_health", labels).record(Self.value(status))
                let breaker: Double = switch index < states.count ? states[index] : .closed(consecutiveFailures: 0) {
                case .closed: 0
                case .halfOpen: 1
                case .open: 2
                }
                metrics.gauge("brain_gateway_circuit_breaker_state", labels).record(breaker)
            }
        }
    }

    static func value(_ status: ServiceStatus) -> Double {
        switch status {
        case .healthy: 1
        case .degraded: 0.5
        case .down: 0
        }
    }
}
