import Testing
@testable import BrainDomain

@Suite struct SlidingWindowRateLimitTests {
    @Test func exactlyTheLimitInOneWindow() {
        var limiter = SlidingWindowRateLimit(limit: 100, windowSeconds: 60)
        for i in 0..<100 {
            let d = limiter.attempt(now: 600 + Double(i) * 0.1)
            #expect(d.allowed, "request \(i)")
            #expect(d.remaining == 99 - i)
        }
        let refused = limiter.attempt(now: 611)
        #expect(!refused.allowed)
        #expect(refused.remaining == 0)
        #expect(refused.retryAfterSeconds > 0)
        #expect(abs(refused.resetSeconds - 49) < 0.001)
    }

    @Test func thePreviousWindowWeighsInProportionally() {
        var limiter = SlidingWindowRateLimit(limit: 10, windowSeconds: 60)
        for _ in 0..<10 { #expect(limiter.attempt(now: 0).allowed) }
        // Half-way through the next window, the previous 10 count as 5: 5 more fit.
        var allowed = 0
        for _ in 0..<10 where limiter.attempt(now: 90).allowed { allowed += 1 }
        #expect(allowed == 5)
        // Two windows later nothing of it is left.
        var later = 0
        for _ in 0..<20 where limiter.attempt(now: 180).allowed { later += 1 }
        #expect(later == 10)
    }

    @Test func retryAfterPointsAtTheFirstMomentARequestFits() {
        var limiter = SlidingWindowRateLimit(limit: 10, windowSeconds: 60)
        for _ in 0..<10 { _ = limiter.attempt(now: 0) }
        for _ in 0..<5 { _ = limiter.attempt(now: 90) }
        let refused = limiter.attempt(now: 90)
        #expect(!refused.allowed)
        let at = 90 + refused.retryAfterSeconds
        #expect(!limiter.attempt(now: at - 0.5).allowed)
        #expect(limiter.attempt(now: at + 0.001).allowed)
    }

    @Test func zeroLimitRefusesEverything() {
        var limiter = SlidingWindowRateLimit(limit: 0, windowSeconds: 1)
        #expect(!limiter.attempt(now: 5).allowed)
    }

    @Test func neverMoreThanTwiceTheLimitInAnyWindowLongInterval() {
        var limiter = SlidingWindowRateLimit(limit: 20, windowSeconds: 10)
        var admitted: [Double] = []
        var t = 0.0
        while t < 100 {
            if limiter.attempt(now: t).allowed { admitted.append(t) }
            t += 0.05
        }
        for start in stride(from: 0.0, to: 90.0, by: 0.5) {
            let inWindow = admitted.filter { $0 >= start && $0 < start + 10 }.count
            #expect(inWindow <= 40, "at \(start): \(inWindow)")
        }
    }
}
