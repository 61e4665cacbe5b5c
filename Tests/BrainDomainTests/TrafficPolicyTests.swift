import Foundation
import Testing

@testable import BrainDomain

@Suite struct LoadBalancerTests {
    @Test func smoothWeightedRoundRobinGivesExactSharesWithoutBursts() {
        var lb = LoadBalancer(algorithm: .roundRobin, weights: [3, 1])
        var random = SplitMix64(seed: 1)
        let picks = (0..<8).compactMap { _ in lb.pick(now: 0, using: &random) { _ in true } }
        #expect(picks.filter { $0 == 0 }.count == 6)
        #expect(picks.filter { $0 == 1 }.count == 2)
        // Smooth: the light instance is not starved for three picks in a row at the end.
        #expect(Array(picks.prefix(4)).contains(1))
        lb.setWeights([1, 1])
        let even = (0..<10).compactMap { _ in lb.pick(now: 0, using: &random) { _ in true } }
        #expect(even.filter { $0 == 0 }.count == 5)
    }

    @Test func onlyAdmittedInstancesArePickedAndTheFailedOneIsAvoided() {
        for algorithm in LoadBalancingAlgorithm.allCases {
            var lb = LoadBalancer(algorithm: algorithm, weights: [1, 1, 1])
            var random = SplitMix64(seed: 7)
            for _ in 0..<50 {
                let notOne = lb.pick(now: 0, using: &random) { $0 != 1 }
                let notTwo = lb.pick(now: 0, excluding: 2, using: &random) { _ in true }
                #expect(notOne != nil && notOne != 1)
                #expect(notTwo != nil && notTwo != 2)
            }
            // Nothing admitted → nil; only the excluded one admitted → it is used anyway.
            let none = lb.pick(now: 0, using: &random) { _ in false }
            let onlyExcluded = lb.pick(now: 0, excluding: 0, using: &random) { $0 == 0 }
            #expect(none == nil)
            #expect(onlyExcluded == 0)
        }
    }

    @Test func leastRequestPrefersFewerOutstandingRequests() {
        var lb = LoadBalancer(algorithm: .leastRequest, weights: [1, 1])
        var random = SplitMix64(seed: 3)
        for _ in 0..<5 { lb.requestStarted(0) }
        // With two instances P2C always compares both: the idle one wins every time.
        for _ in 0..<20 {
            let pick = lb.pick(now: 0, using: &random) { _ in true }
            #expect(pick == 1)
        }
    }

    @Test func peakEWMAPrefersTheFasterInstanceAndForgetsOldSlowness() {
        var lb = LoadBalancer(algorithm: .peakEWMA, weights: [1, 1], decaySeconds: 10)
        var random = SplitMix64(seed: 5)
        var now = 100.0
        var counts = [0, 0]
        for _ in 0..<200 {
            guard let i = lb.pick(now: now, using: &random, admitted: { _ in true }) else { continue }
            counts[i] += 1
            lb.requestStarted(i)
            lb.requestFinished(i, latencySeconds: i == 0 ? 0.050 : 0.002, now: now)
            now += 0.01
        }
        #expect(counts[1] > 180, "the fast instance should take nearly all traffic: \(counts)")
        // The peak: one slow sample on the fast instance makes it expensive at once.
        lb.requestStarted(1)
        lb.requestFinished(1, latencySeconds: 0.5, now: now)
        #expect(lb.cost(1, now: now) > lb.cost(0, now: now))
        // And a minute later the old slowness has decayed away: both are cheap again.
        #expect(lb.cost(1, now: now + 60) < 0.002)
    }

    @Test func decayMatchesTheExponential() {
        for x in stride(from: 0.0, through: 30.0, by: 0.37) {
            let expected = Foundation.exp(-x)
            #expect(abs(LoadBalancer.decay(x) - expected) <= expected * 1e-6, "x=\(x)")
        }
    }
}

@Suite struct BreakerGroupTests {
    let thresholds = CircuitBreakerThresholds(failureThreshold: 2, openSeconds: 10, maxEjectionPercent: 50)

    @Test func neverEjectsMoreThanTheCap() {
        var group = BreakerGroup(thresholds: thresholds, instanceCount: 4)
        #expect(group.maxEjected == 2)
        for i in 0..<4 {
            _ = group.recordFailure(i, now: 0)
            _ = group.recordFailure(i, now: 0)
        }
        #expect(group.ejectedCount == 2)
        // The other two stay in rotation, one failure short: the first slot to free opens one.
        #expect(group.wouldAdmit(2, now: 1) && group.wouldAdmit(3, now: 1))
        #expect(!group.wouldAdmit(0, now: 1))
    }

    @Test func aSingleInstanceCanAlwaysBeEjected() {
        var group = BreakerGroup(thresholds: CircuitBreakerThresholds(failureThreshold: 1, openSeconds: 10, maxEjectionPercent: 0), instanceCount: 1)
        let opened = group.recordFailure(0, now: 0)
        #expect(opened == .opened(forSeconds: 10))
        #expect(!group.wouldAdmit(0, now: 5))
        #expect(group.secondsUntilAdmission(now: 4) == 6)
    }

    @Test func aSuccessfulHealthProbeEndsTheOpenWaitAndAnAbandonedProbeFreesItsSlot() {
        var group = BreakerGroup(thresholds: CircuitBreakerThresholds(failureThreshold: 1, openSeconds: 60, maxEjectionPercent: 100), instanceCount: 1)
        _ = group.recordFailure(0, now: 0)
        #expect(!group.wouldAdmit(0, now: 1))
        group.healthProbeSucceeded(0, now: 1)
        #expect(group.wouldAdmit(0, now: 1))
        let admitted = group.admit(0, now: 1)
        let (admission, transition) = admitted
        #expect(admission == .probe && transition == .halfOpened)
        #expect(!group.wouldAdmit(0, now: 1))
        group.recordAbandoned(0)
        #expect(group.wouldAdmit(0, now: 1))
        _ = group.admit(0, now: 1)
        let closed = group.recordSuccess(0, now: 2)
        #expect(closed == .closed)
        #expect(group.isCalm)
    }
}

@Suite struct RetryBudgetTests {
    @Test func retriesAreCappedAtTheShareOfRequestsPlusTheFloor() {
        var budget = RetryBudget(percent: 20, minPerSecond: 0, windowSeconds: 10)
        var allowed = 0
        for i in 0..<100 {
            budget.recordRequest(now: 1 + Double(i) * 0.01)
            if budget.withdrawRetry(now: 1 + Double(i) * 0.01) { allowed += 1 }
        }
        #expect(allowed == 20)
        var floor = RetryBudget(percent: 0, minPerSecond: 1, windowSeconds: 10)
        floor.recordRequest(now: 1)
        let granted = (0..<50).filter { _ in floor.withdrawRetry(now: 1) }.count
        #expect(granted == 10)
    }

    @Test func theBudgetRefillsAsTheWindowSlides() {
        var budget = RetryBudget(percent: 0, minPerSecond: 1, windowSeconds: 10)
        let first = (0..<10).filter { _ in budget.withdrawRetry(now: 1) }.count
        #expect(first == 10)
        let exhausted = budget.withdrawRetry(now: 5)
        #expect(!exhausted)
        // Two windows later everything old has rolled out.
        let refilled = budget.withdrawRetry(now: 22)
        #expect(refilled)
    }
}

@Suite struct CacheRulesTests {
    @Test func directivesParse() {
        let d = CacheDirectives(values: ["public, max-age=60", "S-MAXAGE=\"120\" ,  no-cache"])
        #expect(d.isPublic && d.noCache && d.maxAge == 60 && d.sharedMaxAge == 120)
        #expect(!d.noStore && !d.isPrivate)
        #expect(CacheDirectives(values: ["private=\"Set-Cookie\""]).isPrivate)
    }

    @Test func lifetimesFollowTheSharedCacheRules() {
        let policy = CachePolicy()
        func lifetime(_ cc: String?, status: Int = 200, varyAll: Bool = false, cookie: Bool = false, policy: CachePolicy = CachePolicy()) -> Double? {
            CacheRules.freshnessLifetime(status: status, directives: CacheDirectives(values: cc.map { [$0] } ?? []), varyAll: varyAll, setsCookie: cookie, policy: policy)
        }
        #expect(lifetime("max-age=60") == 60)
        #expect(lifetime("max-age=60, s-maxage=5") == 5)
        #expect(lifetime("no-cache") == 0)
        #expect(lifetime("no-store, max-age=60") == nil)
        #expect(lifetime("private, max-age=60") == nil)
        #expect(lifetime("max-age=60", status: 404) == nil)
        #expect(lifetime("max-age=60", varyAll: true) == nil)
        #expect(lifetime("max-age=60", cookie: true) == nil)
        #expect(lifetime(nil) == nil)
        #expect(lifetime(nil, policy: CachePolicy(ttlSeconds: 30)) == 30)
        #expect(lifetime("max-age=60", policy: CachePolicy(enabled: false)) == nil)
        _ = policy
    }

    @Test func requestModes() {
        #expect(CacheRules.requestMode(CacheDirectives(values: ["no-cache"]), pragmaNoCache: false) == .revalidate)
        #expect(CacheRules.requestMode(CacheDirectives(values: ["max-age=0"]), pragmaNoCache: false) == .revalidate)
        #expect(CacheRules.requestMode(CacheDirectives(), pragmaNoCache: true) == .revalidate)
        #expect(CacheRules.requestMode(CacheDirectives(values: ["no-store"]), pragmaNoCache: false) == .bypass)
        #expect(CacheRules.requestMode(CacheDirectives(), pragmaNoCache: false) == .lookup)
    }
}
