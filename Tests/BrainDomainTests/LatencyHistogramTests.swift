import BrainDomain
import Testing

/// The optimiser's evidence windows: quantiles within a few percent, merging, and the window
/// forgetting what slid out of it.
@Suite struct LatencyHistogramTests {
    @Test func theP95IsWithinAFewPercentOfTheExactOne() {
        var histogram = LatencyHistogram()
        // 1…10,000 µs, plus a slow tail of 5 % at 1.2 s.
        var values: [Int] = Array(1...9_500).map { $0 }
        values += Array(repeating: 1_200_000, count: 500)
        for v in values { histogram.record(microseconds: v) }
        let sorted = values.sorted()
        for q in [0.5, 0.9, 0.95, 0.99] {
            let exact = Double(sorted[Int((q * Double(sorted.count)).rounded(.up)) - 1]) / 1000
            let estimate = histogram.quantileMilliseconds(q)
            #expect(abs(estimate - exact) / exact <= 0.0625, "q\(q): \(estimate) vs \(exact)")
        }
        // A 900 ms p95 is not read as above a 1,000 ms threshold, nor 1,100 ms as below it.
        for (value, above) in [(900_000, false), (1_100_000, true)] {
            var h = LatencyHistogram()
            for _ in 0..<100 { h.record(microseconds: value) }
            #expect((h.quantileMilliseconds(0.95) > 1000) == above, "\(value) µs → \(h.quantileMilliseconds(0.95)) ms")
        }
        #expect(LatencyHistogram().quantileMilliseconds(0.95) == 0)
    }

    @Test func histogramsMergeAndHugeValuesLandInTheLastBucket() {
        var a = LatencyHistogram(), b = LatencyHistogram()
        for _ in 0..<90 { a.record(microseconds: 10_000) }
        for _ in 0..<10 { b.record(microseconds: 2_000_000) }
        a.add(b)
        #expect(a.count == 100 && a.quantileMilliseconds(0.5) < 11 && a.quantileMilliseconds(0.95) > 1900)
        #expect(abs(a.meanMilliseconds - 209) < 1)
        var huge = LatencyHistogram()
        huge.record(microseconds: Int.max)
        huge.record(microseconds: -5)
        #expect(huge.count == 2 && huge.quantileMilliseconds(1) > 100_000)
    }

    @Test func theWindowForgetsSlotsThatSlidOut() {
        let second: UInt64 = 1_000_000_000
        var window = SlottedTrafficWindow(windowNanoseconds: 10 * second, slots: 10)
        let start: UInt64 = 1_000 * second
        for i in 0..<10 { window.record(error: i == 0, microseconds: 1000, at: start + UInt64(i) * second) }
        #expect(window.total(at: start + 9 * second).requests == 10)
        #expect(window.total(at: start + 9 * second).errors == 1)
        // Five seconds later, the first five slots are out of the window.
        let later = window.total(at: start + 14 * second)
        #expect(later.requests == 5 && later.errors == 0)
        // A slot reused a lap later starts empty.
        window.record(error: false, microseconds: 5, at: start + 20 * second)
        #expect(window.total(at: start + 20 * second).requests == 1)
        #expect(window.total(at: start + 40 * second).requests == 0)
    }

    @Test func failuresAndTooManyRequestsAreErrorsWithoutLatency() {
        var sample = TrafficSample()
        for status in [200, 201, 404, 429, 500, 503, 0] {
            sample.record(error: TrafficSample.isError(status: status), microseconds: 100)
        }
        #expect(sample.requests == 7 && sample.errors == 4 && sample.latencies.count == 3)
    }
}
