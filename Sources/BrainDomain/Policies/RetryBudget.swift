/// Bounds retries to a share of a service's traffic so they cannot amplify an outage (Envoy's
/// retry budget, Finagle's `RetryBudget`): over a sliding window, retries may not exceed
/// `percent` of requests plus `minPerSecond` × window. When every attempt fails, load on the
/// upstream grows by at most that share instead of doubling. Pure: the caller passes the time.
public struct RetryBudget: Sendable, Equatable {
    public let percent: Int
    public let minPerSecond: Int
    public let windowSeconds: Double

    private var windowStart = 0.0
    private var requests = 0
    private var previousRequests = 0
    private var retries = 0
    private var previousRetries = 0

    public init(percent: Int, minPerSecond: Int, windowSeconds: Double = 10) {
        self.percent = max(0, percent)
        self.minPerSecond = max(0, minPerSecond)
        self.windowSeconds = max(0.001, windowSeconds)
    }

    public init(_ settings: RetrySettings) {
        self.init(percent: settings.budgetPercent, minPerSecond: settings.budgetMinPerSecond)
    }

    /// A first attempt was made (deposits into the budget).
    public mutating func recordRequest(now: Double) {
        roll(to: now)
        requests += 1
    }

    /// Takes one retry from the budget if it has room.
    public mutating func withdrawRetry(now: Double) -> Bool {
        roll(to: now)
        let overlap = max(0, 1 - (now - windowStart) / windowSeconds)
        let recentRequests = Double(previousRequests) * overlap + Double(requests)
        let recentRetries = Double(previousRetries) * overlap + Double(retries)
        let allowance = recentRequests * Double(percent) / 100 + Double(minPerSecond) * windowSeconds
        guard recentRetries + 1 <= allowance else { return false }
        retries += 1
        return true
    }

    private mutating func roll(to now: Double) {
        if windowStart == 0 {
            windowStart = now
            return
        }
        let elapsed = now - windowStart
        if elapsed >= 2 * windowSeconds {
            previousRequests = 0
            previousRetries = 0
            requests = 0
            retries = 0
            windowStart = now
        } else if elapsed >= windowSeconds {
            previousRequests = requests
            previousRetries = retries
            requests = 0
            retries = 0
            windowStart += windowSeconds
        }
    }
}
