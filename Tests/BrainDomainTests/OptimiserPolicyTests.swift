import BrainDomain
import Testing

/// The optimiser's decisions on recorded series, without sockets or clocks.
@Suite struct OptimiserPolicyTests {
    let fast = UpstreamInstance(scheme: .http, host: "10.0.0.1", port: 80)
    let slow = UpstreamInstance(scheme: .http, host: "10.0.0.2", port: 80)
    let settings = OptimiserSettings()

    func window(p95: Double, slowP95: Double? = nil, errors: Int = 0, requests: Int = 100, weights: (Int, Int) = (100, 100), slowErrors: Int = 0) -> ServiceEvidence {
        ServiceEvidence(requests: requests, errors: errors + slowErrors, p95Milliseconds: p95, instances: [
            InstanceEvidence(instance: fast, requests: requests / 2, errors: errors, p95Milliseconds: 50, configuredWeight: 100, currentWeight: weights.0),
            InstanceEvidence(instance: slow, requests: requests / 2, errors: slowErrors, p95Milliseconds: slowP95 ?? p95, configuredWeight: 100, currentWeight: weights.1),
        ])
    }

    @Test func tooFewRequestsDecideNothing() {
        var policy = OptimiserPolicy()
        for t in 0..<5 { #expect(policy.analyse(window(p95: 5000, requests: 10), settings: settings, now: Double(t) * 60).isEmpty) }
    }

    @Test func aSlowInstanceLosesWeightInBoundedStepsAfterTheBreachHoldsAndTheAgentIsCalledOnce() {
        var policy = OptimiserPolicy()
        #expect(policy.analyse(window(p95: 1200), settings: settings, now: 0).isEmpty, "one window is not a breach yet")
        #expect(policy.analyse(window(p95: 1200), settings: settings, now: 60) == [.callOptimisationAgent, .setWeight(slow, from: 100, to: 50, rule: .latency)])
        // Improving, still above the threshold: another bounded step, down to the floor (10 %).
        #expect(policy.analyse(window(p95: 1100, weights: (100, 50)), settings: settings, now: 120) == [.setWeight(slow, from: 50, to: 10, rule: .latency)])
        #expect(policy.analyse(window(p95: 1050, weights: (100, 10)), settings: settings, now: 180).isEmpty, "at the floor; no second agent call")
        // Recovery must hold two windows; then weights climb back step by step.
        #expect(policy.analyse(window(p95: 300, weights: (100, 10)), settings: settings, now: 240).isEmpty)
        #expect(policy.analyse(window(p95: 300, weights: (100, 10)), settings: settings, now: 300) == [.setWeight(slow, from: 10, to: 60, rule: .latency)])
        #expect(policy.analyse(window(p95: 300, weights: (100, 60)), settings: settings, now: 360) == [.setWeight(slow, from: 60, to: 100, rule: .latency), .recovered(.latency)])
        #expect(!policy.latencyIncidentOpen)
        // A new breach within the cooldown opens no incident; after it, one does.
        for t in 7..<10 { #expect(policy.analyse(window(p95: 1500), settings: settings, now: Double(t) * 60).isEmpty) }
        #expect(policy.analyse(window(p95: 1500), settings: settings, now: 360 + 601).first == .callOptimisationAgent)
    }

    @Test func aSingleInstanceServiceGetsTheAgentButNoWeightChange() {
        var policy = OptimiserPolicy()
        let evidence = ServiceEvidence(requests: 100, errors: 0, p95Milliseconds: 1500, instances: [
            InstanceEvidence(instance: slow, requests: 100, errors: 0, p95Milliseconds: 1500, configuredWeight: 1, currentWeight: 1),
        ])
        _ = policy.analyse(evidence, settings: settings, now: 0)
        #expect(policy.analyse(evidence, settings: settings, now: 60) == [.callOptimisationAgent])
        #expect(policy.analyse(evidence, settings: settings, now: 120).isEmpty)
    }

    @Test func failingRequestsRunSelfHealingOncePerIncident() {
        var policy = OptimiserPolicy()
        #expect(policy.analyse(window(p95: 100, errors: 10), settings: settings, now: 0).isEmpty)
        #expect(policy.analyse(window(p95: 100, errors: 10), settings: settings, now: 60) == [.runSelfHealing])
        for t in 2..<6 { #expect(policy.analyse(window(p95: 100, errors: 10), settings: settings, now: Double(t) * 60).isEmpty) }
        #expect(policy.analyse(window(p95: 100), settings: settings, now: 360).isEmpty)
        #expect(policy.analyse(window(p95: 100), settings: settings, now: 420) == [.recovered(.errors)])
    }

    @Test func aReductionThatDoesNotHelpIsRolledBackOnceAndNotRepeated() {
        var policy = OptimiserPolicy()
        _ = policy.analyse(window(p95: 1200), settings: settings, now: 0)
        #expect(policy.analyse(window(p95: 1200), settings: settings, now: 60).contains(.setWeight(slow, from: 100, to: 50, rule: .latency)))
        // Two analyses later the service is no faster: undone.
        #expect(policy.analyse(window(p95: 1250, weights: (100, 50)), settings: settings, now: 120) == [.setWeight(slow, from: 50, to: 10, rule: .latency)])
        #expect(policy.analyse(window(p95: 1300, weights: (100, 10)), settings: settings, now: 180) == [.setWeight(slow, from: 10, to: 100, rule: .latency), .rolledBack(.latency)])
        for t in 4..<8 { #expect(policy.analyse(window(p95: 1300), settings: settings, now: Double(t) * 60).isEmpty, "never repeated") }
    }

    @Test func fastFailuresNeverWinTraffic() {
        // The "fast" instance answers in 50 ms but fails a third of its requests; the other is
        // slow and healthy. The failing one is the one that loses weight.
        var policy = OptimiserPolicy()
        let evidence = ServiceEvidence(requests: 100, errors: 17, p95Milliseconds: 1200, instances: [
            InstanceEvidence(instance: fast, requests: 50, errors: 17, p95Milliseconds: 50, configuredWeight: 100, currentWeight: 100),
            InstanceEvidence(instance: slow, requests: 50, errors: 0, p95Milliseconds: 1200, configuredWeight: 100, currentWeight: 100),
        ])
        _ = policy.analyse(evidence, settings: settings, now: 0)
        let decisions = policy.analyse(evidence, settings: settings, now: 60)
        #expect(decisions.contains(.setWeight(fast, from: 100, to: 50, rule: .latency)))
        #expect(!decisions.contains { if case .setWeight(slow, _, _, _) = $0 { return true } else { return false } })
    }

    @Test func aReductionThatLowersTheMeanStandsThoughTheP95StaysHigh() {
        // While the slow instance still carries 5 % of requests the p95 is its latency; the
        // mean shows the share moving away from it.
        var policy = OptimiserPolicy()
        func slowWindow(mean: Double, weights: (Int, Int)) -> ServiceEvidence {
            var evidence = window(p95: 1200, weights: weights)
            evidence.meanMilliseconds = mean
            return evidence
        }
        _ = policy.analyse(slowWindow(mean: 600, weights: (100, 100)), settings: settings, now: 0)
        #expect(policy.analyse(slowWindow(mean: 600, weights: (100, 100)), settings: settings, now: 60).contains(.setWeight(slow, from: 100, to: 50, rule: .latency)))
        #expect(policy.analyse(slowWindow(mean: 400, weights: (100, 50)), settings: settings, now: 120) == [.setWeight(slow, from: 50, to: 10, rule: .latency)])
        #expect(policy.analyse(slowWindow(mean: 110, weights: (100, 10)), settings: settings, now: 180).isEmpty, "improved: kept at the floor, not rolled back")
        #expect(policy.analyse(slowWindow(mean: 110, weights: (100, 10)), settings: settings, now: 240).isEmpty)
    }
}
