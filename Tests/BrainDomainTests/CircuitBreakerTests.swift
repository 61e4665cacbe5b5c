import Testing
@testable import BrainDomain

/// Every transition of the breaker, with time given explicitly (an injected clock).
@Suite struct CircuitBreakerTests {
    func breaker(threshold: Int = 3, open: Double = 10, max: Double = 40, probes: Int = 1) -> CircuitBreaker {
        CircuitBreaker(configuration: .init(failureThreshold: threshold, openSeconds: open, maxOpenSeconds: max, halfOpenProbes: probes))
    }

    @Test func opensAfterConsecutiveFailuresOnly() {
        var b = breaker()
        #expect(b.recordFailure(now: 0) == nil)
        #expect(b.recordFailure(now: 1) == nil)
        #expect(b.recordSuccess(now: 2) == nil)          // a success resets the count
        #expect(b.recordFailure(now: 3) == nil)
        #expect(b.recordFailure(now: 4) == nil)
        #expect(b.recordFailure(now: 5) == .opened(forSeconds: 10))
        #expect(b.state == .open(until: 15, openings: 1))
    }

    @Test func rejectsWhileOpenWithRetryAfter() {
        var b = breaker(threshold: 1)
        _ = b.recordFailure(now: 100)
        #expect(b.admit(now: 104).0 == .rejected(retryAfter: 6))
        #expect(b.admit(now: 109.5).0 == .rejected(retryAfter: 0.5))
    }

    @Test func halfOpenProbeSuccessCloses() {
        var b = breaker(threshold: 1)
        _ = b.recordFailure(now: 0)
        let (admission, transition) = b.admit(now: 10)
        #expect(admission == .probe && transition == .halfOpened)
        // Only one probe at a time.
        #expect(b.admit(now: 10.1).0 == .rejected(retryAfter: 1))
        #expect(b.recordSuccess(now: 10.2) == .closed)
        #expect(b.admit(now: 10.3).0 == .admitted)
        #expect(b.state == .closed(consecutiveFailures: 0))
    }

    @Test func halfOpenFailureReopensWithGrowingOpenTimeUpToTheCap() {
        var b = breaker(threshold: 1, open: 10, max: 40)
        #expect(b.recordFailure(now: 0) == .opened(forSeconds: 10))
        _ = b.admit(now: 10)
        #expect(b.recordFailure(now: 10) == .opened(forSeconds: 20))
        _ = b.admit(now: 30)
        #expect(b.recordFailure(now: 30) == .opened(forSeconds: 40))
        _ = b.admit(now: 70)
        #expect(b.recordFailure(now: 70) == .opened(forSeconds: 40))   // capped
        _ = b.admit(now: 110)
        #expect(b.recordSuccess(now: 110) == .closed)
        // After closing, the back-off starts over.
        #expect(b.recordFailure(now: 111) == .opened(forSeconds: 10))
    }

    @Test func severalProbesMustAllSucceed() {
        var b = breaker(threshold: 1, probes: 3)
        _ = b.recordFailure(now: 0)
        #expect(b.admit(now: 10).0 == .probe)
        #expect(b.admit(now: 10).0 == .probe)
        #expect(b.admit(now: 10).0 == .probe)
        #expect(b.admit(now: 10).0 == .rejected(retryAfter: 1))
        #expect(b.recordSuccess(now: 11) == nil)
        #expect(b.recordSuccess(now: 11) == nil)
        #expect(b.recordSuccess(now: 11) == .closed)
    }

    @Test func lateResultsWhileOpenChangeNothing() {
        var b = breaker(threshold: 1)
        _ = b.recordFailure(now: 0)
        #expect(b.recordSuccess(now: 1) == nil)
        #expect(b.recordFailure(now: 2) == nil)
        #expect(b.state == .open(until: 10, openings: 1))
    }

    @Test func seedDefaultsFromTheServiceDocument() {
        let c = CircuitBreaker.Configuration(CircuitBreakerThresholds.default)
        #expect(c.failureThreshold == 5 && c.openSeconds == 60 && c.halfOpenProbes == 1)
    }
}
