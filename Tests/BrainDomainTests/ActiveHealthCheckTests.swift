import Testing

@testable import BrainDomain

@Suite struct ActiveHealthCheckTests {
    @Test func goesDownAfterTheUnhealthyThresholdAndBackAfterTheHealthyOne() {
        var check = ActiveHealthCheck(policy: HealthCheckPolicy(unhealthyThreshold: 3, healthyThreshold: 2))
        #expect(check.probeFailed() == nil)
        #expect(check.probeFailed() == nil)
        #expect(check.isDown == false)
        #expect(check.probeFailed() == .wentDown)
        #expect(check.isDown)
        #expect(check.probeFailed() == nil, "a down instance does not go down twice")
        #expect(check.probeSucceeded() == nil)
        #expect(check.isDown, "one success is not enough with healthy_threshold 2")
        #expect(check.probeFailed() == nil)
        #expect(check.probeSucceeded() == nil, "the successes must be in a row")
        #expect(check.probeSucceeded() == .cameBack)
        #expect(!check.isDown)
        #expect(check.probeSucceeded() == nil)
    }

    @Test func aSuccessResetsTheFailureCount() {
        var check = ActiveHealthCheck(policy: HealthCheckPolicy(unhealthyThreshold: 2, healthyThreshold: 1))
        _ = check.probeFailed()
        _ = check.probeSucceeded()
        #expect(check.probeFailed() == nil)
        #expect(check.probeFailed() == .wentDown)
    }
}

@Suite struct LoadBalancerReadmissionTests {
    @Test func aReadmittedInstanceLosesItsFailurePenaltyAndIsPickedAgain() {
        var lb = LoadBalancer(algorithm: .peakEWMA, weights: [1, 1, 1])
        var random = SplitMix64(seed: 3)
        for instance in [0, 2] {
            lb.requestStarted(instance)
            lb.requestFinished(instance, latencySeconds: 0.002, now: 1)
        }
        // Instance 1 failed three times: each costs the 1 s penalty.
        for _ in 0..<3 {
            lb.requestStarted(1)
            lb.requestFinished(1, latencySeconds: nil, now: 1)
        }
        let penalised = (0..<200).compactMap { _ in lb.pick(now: 3, using: &random) { _ in true } }
        #expect(!penalised.contains(1))

        lb.readmit(1, now: 3)
        #expect(abs(lb.loads[1].latencySeconds - lb.loads[0].latencySeconds * LoadBalancer.decay(2.0 / lb.decaySeconds)) < 1e-9)
        let after = (0..<300).compactMap { _ in lb.pick(now: 3, using: &random) { _ in true } }
        #expect(after.filter { $0 == 1 }.count > 50)
    }

    @Test func withNoOtherEstimateTheReadmittedInstanceCountsAsUnmeasured() {
        var lb = LoadBalancer(algorithm: .peakEWMA, weights: [1, 1])
        lb.requestStarted(0)
        lb.requestFinished(0, latencySeconds: nil, now: 1)
        lb.readmit(0, now: 2)
        #expect(lb.loads[0].latencySeconds == 0 && lb.loads[0].observedAt == 0)
    }
}
