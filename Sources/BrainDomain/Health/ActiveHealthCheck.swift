/// One instance's standing with the active health checker, as a pure state machine: it is told
/// each probe's result and answers when the instance leaves or rejoins rotation.
///
/// The counts are kept apart from the circuit breaker's on purpose: a breaker tuned to tolerate
/// a noisy backend (a high `failure_threshold`) must not keep an instance whose health endpoint
/// says it is broken in rotation, and a single lucky probe must not readmit an instance that
/// needs `healthy_threshold` successes.
public struct ActiveHealthCheck: Sendable, Equatable {
    public enum Transition: Sendable, Equatable {
        /// `unhealthy_threshold` failed probes in a row: the instance gets no traffic.
        case wentDown
        /// `healthy_threshold` successful probes in a row after being down: traffic again.
        case cameBack
    }

    public let policy: HealthCheckPolicy
    public private(set) var isDown = false
    public private(set) var failuresInARow = 0
    public private(set) var successesInARow = 0

    public init(policy: HealthCheckPolicy) {
        self.policy = policy
    }

    public mutating func probeSucceeded() -> Transition? {
        failuresInARow = 0
        successesInARow += 1
        guard isDown, successesInARow >= policy.healthyThreshold else { return nil }
        isDown = false
        return .cameBack
    }

    public mutating func probeFailed() -> Transition? {
        successesInARow = 0
        failuresInARow += 1
        guard !isDown, failuresInARow >= policy.unhealthyThreshold else { return nil }
        isDown = true
        return .wentDown
    }
}
