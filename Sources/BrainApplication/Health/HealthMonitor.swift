import BrainDomain
import Logging
import ServiceLifecycle

/// Probes one instance's health endpoint.
public protocol HealthProbe: Sendable {
    /// Requests `path` on `instance`; returns the response time, or throws why it is unhealthy.
    func probe(_ instance: UpstreamInstance, path: String, timeoutSeconds: Int) async throws -> Double
}

/// Background service probing every instance every `interval` seconds
/// (`HEALTH_CHECK_INTERVAL`, probe timeout 2 s), all instances of a round concurrently, and
/// recording the results on the `HealthBoard`, whose verdicts (the service's `health_check`
/// thresholds) the breakers obey.
public struct HealthMonitor: Service {
    private let registry: ServiceRegistry
    private let board: HealthBoard
    private let probe: any HealthProbe
    private let intervalSeconds: Int
    private let timeoutSeconds: Int
    private let logger: Logger
    /// Told each verdict, so probes eject and restore instances alongside live traffic.
    private let breakers: BreakerBoard?
    private let now: @Sendable () -> Double

    public init(
        registry: ServiceRegistry, board: HealthBoard, probe: any HealthProbe, intervalSeconds: Int, timeoutSeconds: Int = 2,
        breakers: BreakerBoard? = nil, now: @escaping @Sendable () -> Double = { 0 }, logger: Logger
    ) {
        self.breakers = breakers
        self.now = now
        self.registry = registry
        self.board = board
        self.probe = probe
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.logger = logger
    }

    public func run() async throws {
        // Stop promptly on graceful shutdown: the sleep is cancelled.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.probeAll()
                try? await Task.sleep(for: .seconds(self.intervalSeconds))
            }
        }
    }

    /// One round over every instance of every registered service.
    public func probeAll() async {
        let services = registry.directory.services
        await withTaskGroup(of: Void.self) { group in
            for service in services {
                for instance in service.instances {
                    group.addTask {
                        let verdict: HealthBoard.ProbeVerdict
                        let succeeded: Bool
                        do {
                            let time = try await self.probe.probe(instance, path: service.healthPath, timeoutSeconds: self.timeoutSeconds)
                            succeeded = true
                            verdict = self.board.recordProbe(service: service, instance: instance, succeeded: true, responseTimeMilliseconds: time, error: nil)
                        } catch {
                            let reason = String(describing: error)
                            self.logger.debug("health probe failed", metadata: [
                                "service": "\(service.name)", "instance": "\(instance)", "error": .string(reason),
                            ])
                            succeeded = false
                            verdict = self.board.recordProbe(service: service, instance: instance, succeeded: false, responseTimeMilliseconds: nil, error: reason)
                        }
                        if let transition = verdict.transition {
                            self.logger.notice(transition == .wentDown ? "instance taken out of rotation by its health checks" : "instance back in rotation", metadata: [
                                "service": "\(service.name)", "instance": "\(instance)",
                            ])
                        }
                        self.tellBreakers(service: service, instance: instance, down: verdict.isDown, probeSucceeded: succeeded)
                    }
                }
            }
        }
    }

    private func tellBreakers(service: ServiceRoute, instance: UpstreamInstance, down: Bool, probeSucceeded: Bool) {
        guard let breakers = breakers?.breakers(for: service), let index = service.instances.firstIndex(of: instance) else { return }
        breakers.healthProbe(instance: index, down: down, succeeded: probeSucceeded, now: now())
    }
}
