/// The load-balancer choice for one service, as a pure state machine: it is told which
/// instances are admitted (breakers, active health), the time and a random source, and answers
/// which instance takes the next request. One lives per service per event loop, so picks need no
/// lock; each loop balances the share of traffic it carries (as Envoy's workers do).
///
/// - `roundRobin`: smooth weighted round robin (nginx): exact shares, no bursts to one instance.
/// - `leastRequest`: power of two choices — two random admitted instances, the one with fewer
///   outstanding requests per unit of weight wins. Near-optimal spread at O(1) cost
///   (Mitzenmacher), and no herd onto the one idle instance that "least" alone would cause.
/// - `peakEWMA` (default): power of two choices by `latency × (outstanding + 1) ÷ weight`,
///   latency an exponentially weighted moving average that jumps to any higher sample at once
///   (the "peak") and decays toward lower ones with a time constant — Finagle's and Linkerd's
///   balancer: the instance expected to answer soonest. An instance not chosen for a while has its cost
///   decay, so it is tried again and can prove it recovered.
public struct LoadBalancer: Sendable {
    public struct InstanceLoad: Sendable, Equatable {
        public var outstanding = 0
        /// Peak-EWMA latency in seconds (0 until the first sample).
        public var latencySeconds = 0.0
        public var observedAt = 0.0
    }

    public let algorithm: LoadBalancingAlgorithm
    /// Time constant of the latency average.
    public let decaySeconds: Double
    /// A failed attempt counts as a sample this slow, so failing fast never looks attractive.
    public let failurePenaltySeconds: Double
    public private(set) var loads: [InstanceLoad]
    public private(set) var weights: [Int]
    private var roundRobinCurrent: [Int]

    public init(algorithm: LoadBalancingAlgorithm, weights: [Int], decaySeconds: Double = 10, failurePenaltySeconds: Double = 1) {
        self.algorithm = algorithm
        self.weights = weights.map { max(1, $0) }
        self.decaySeconds = decaySeconds
        self.failurePenaltySeconds = failurePenaltySeconds
        self.loads = Array(repeating: InstanceLoad(), count: weights.count)
        self.roundRobinCurrent = Array(repeating: 0, count: weights.count)
    }

    public var count: Int { weights.count }

    public mutating func setWeights(_ weights: [Int]) {
        guard weights.count == self.weights.count else { return }
        self.weights = weights.map { max(1, $0) }
    }

    /// The instance for the next request: among those `admitted`, avoiding `excluded` (the one
    /// that just failed) when another is admitted. Nil when none is admitted.
    public mutating func pick<R: RandomNumberGenerator>(
        now: Double, excluding excluded: Int? = nil, using random: inout R, admitted: (Int) -> Bool
    ) -> Int? {
        let n = weights.count
        guard n > 1 else { return n == 1 && admitted(0) ? 0 : nil }
        var eligibleCount = 0
        var onlyExcludedEligible = false
        for i in 0..<n where admitted(i) {
            if i == excluded { onlyExcludedEligible = true } else { eligibleCount += 1 }
        }
        guard eligibleCount > 0 else { return onlyExcludedEligible ? excluded : nil }
        let isEligible = { (i: Int) in i != excluded && admitted(i) }
        switch algorithm {
        case .roundRobin:
            return smoothWeightedRoundRobin(isEligible)
        case .leastRequest, .peakEWMA:
            let first = randomEligible(skipping: nil, count: eligibleCount, using: &random, isEligible)
            guard eligibleCount > 1 else { return first }
            let second = randomEligible(skipping: first, count: eligibleCount - 1, using: &random, isEligible)
            return cost(first, now: now) <= cost(second, now: now) ? first : second
        }
    }

    /// The k-th eligible instance for a uniformly random k (no allocation).
    private func randomEligible<R: RandomNumberGenerator>(skipping skip: Int?, count: Int, using random: inout R, _ isEligible: (Int) -> Bool) -> Int {
        var k = Int(random.next(upperBound: UInt(count)))
        for i in 0..<weights.count where i != skip && isEligible(i) {
            if k == 0 { return i }
            k -= 1
        }
        return 0
    }

    private mutating func smoothWeightedRoundRobin(_ isEligible: (Int) -> Bool) -> Int {
        var total = 0
        var best = -1
        for i in 0..<weights.count where isEligible(i) {
            roundRobinCurrent[i] += weights[i]
            total += weights[i]
            if best < 0 || roundRobinCurrent[i] > roundRobinCurrent[best] { best = i }
        }
        roundRobinCurrent[best] -= total
        return best
    }

    /// What sending one more request to `instance` is expected to cost; lower wins.
    public func cost(_ instance: Int, now: Double) -> Double {
        let load = loads[instance]
        let weight = Double(weights[instance])
        switch algorithm {
        case .roundRobin, .leastRequest:
            return Double(load.outstanding) / weight
        case .peakEWMA:
            let latency = load.latencySeconds * Self.decay((now - load.observedAt) / decaySeconds)
            // An instance with no sample yet costs nothing, so it is tried (and measured) first.
            return latency * Double(load.outstanding + 1) / weight
        }
    }

    /// A request was sent to `instance`.
    public mutating func requestStarted(_ instance: Int) {
        loads[instance].outstanding += 1
    }

    /// The request to `instance` finished after `latencySeconds` (time to response head), or failed.
    public mutating func requestFinished(_ instance: Int, latencySeconds: Double?, now: Double) {
        var load = loads[instance]
        load.outstanding = max(0, load.outstanding - 1)
        let sample = latencySeconds ?? max(failurePenaltySeconds, load.latencySeconds)
        if sample > load.latencySeconds || load.observedAt == 0 {
            load.latencySeconds = sample
        } else {
            let w = Self.decay((now - load.observedAt) / decaySeconds)
            load.latencySeconds = load.latencySeconds * w + sample * (1 - w)
        }
        load.observedAt = now
        loads[instance] = load
    }

    /// `instance` is back in rotation after being out (probes or its breaker): the latency its
    /// failures left behind describes the outage, not the instance, so it takes the median of
    /// the others' current estimates and competes for traffic at once. With no other estimate
    /// it counts as unmeasured, which the balancer tries first.
    public mutating func readmit(_ instance: Int, now: Double) {
        var others: [Double] = []
        for i in loads.indices where i != instance && loads[i].observedAt != 0 {
            others.append(loads[i].latencySeconds * Self.decay((now - loads[i].observedAt) / decaySeconds))
        }
        guard !others.isEmpty else {
            loads[instance].latencySeconds = 0
            loads[instance].observedAt = 0
            return
        }
        others.sort()
        let middle = others.count / 2
        loads[instance].latencySeconds = others.count % 2 == 1 ? others[middle] : (others[middle - 1] + others[middle]) / 2
        loads[instance].observedAt = now
    }

    /// The request to `instance` ended without telling anything about it (the client left).
    public mutating func requestAbandoned(_ instance: Int) {
        loads[instance].outstanding = max(0, loads[instance].outstanding - 1)
    }

    /// e^(−x) for x ≥ 0, without libm (the domain links no Foundation): scaled Taylor series.
    static func decay(_ x: Double) -> Double {
        guard x > 0 else { return 1 }
        guard x < 40 else { return 0 }
        var y = x
        var squarings = 0
        while y > 0.0625 {
            y /= 2
            squarings += 1
        }
        var e = 1 + y * (1 + y / 2 * (1 + y / 3 * (1 + y / 4 * (1 + y / 5 * (1 + y / 6)))))
        for _ in 0..<squarings { e *= e }
        return 1 / e
    }
}
