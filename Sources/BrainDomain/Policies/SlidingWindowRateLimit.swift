/// The rate-limit algorithm for one (tenant, service) key: a sliding-window counter.
///
/// Two fixed windows are kept — the current one and the previous — and the previous one's count
/// is weighted by how much of it still overlaps the sliding window:
/// `estimate = previous × (1 − elapsed/window) + current`. It needs two integers per key (a
/// log of timestamps would need one per request) and is exact when requests are spread evenly;
/// with bursts it can admit up to the limit + (previous window's count × overlap) rounded down,
/// never more than 2 × limit in any window-long interval, and never fewer than the limit in a
/// fixed window. Pure: the caller passes the time.
public struct SlidingWindowRateLimit: Sendable, Equatable {
    public let limit: Int
    public let windowSeconds: Double

    private var windowStart: Double = 0
    private var current = 0
    private var previous = 0

    public init(limit: Int, windowSeconds: Double) {
        self.limit = max(0, limit)
        self.windowSeconds = max(0.001, windowSeconds)
    }

    public init(_ policy: RateLimitPolicy) {
        self.init(limit: policy.requests, windowSeconds: Double(policy.windowSeconds))
    }

    public struct Decision: Sendable, Equatable {
        public let allowed: Bool
        /// `RateLimit-Remaining`.
        public let remaining: Int
        /// Seconds until the current fixed window ends (`RateLimit-Reset`).
        public let resetSeconds: Double
        /// When refused: seconds until a request would be allowed (`Retry-After`).
        public let retryAfterSeconds: Double

        public init(allowed: Bool, remaining: Int, resetSeconds: Double, retryAfterSeconds: Double) {
            self.allowed = allowed
            self.remaining = remaining
            self.resetSeconds = resetSeconds
            self.retryAfterSeconds = retryAfterSeconds
        }
    }

    /// Counts one request at `now` if the limit allows it.
    public mutating func attempt(now: Double) -> Decision {
        roll(to: now)
        let elapsed = now - windowStart
        let weight = max(0, 1 - elapsed / windowSeconds)
        let estimate = Double(previous) * weight + Double(current)
        let reset = windowStart + windowSeconds - now
        if estimate + 1 <= Double(limit) {
            current += 1
            let remaining = max(0, Int(max(0, Double(limit) - estimate - 1)))
            return Decision(allowed: true, remaining: remaining, resetSeconds: reset, retryAfterSeconds: 0)
        }
        return Decision(allowed: false, remaining: 0, resetSeconds: reset, retryAfterSeconds: retryAfter(now: now))
    }

    /// Moves the fixed windows forward to the one containing `now`.
    private mutating func roll(to now: Double) {
        if windowStart == 0 && current == 0 && previous == 0 {
            windowStart = Self.wholePart(now / windowSeconds) * windowSeconds
            return
        }
        let windows = Self.wholePart((now - windowStart) / windowSeconds)
        if windows >= 2 {
            previous = 0
            current = 0
            windowStart += windows * windowSeconds
        } else if windows >= 1 {
            previous = current
            current = 0
            windowStart += windowSeconds
        }
    }

    /// ⌊x⌋ for the non-negative values used here, without libm (the domain links no Foundation).
    private static func wholePart(_ x: Double) -> Double { x <= 0 ? 0 : Double(Int64(x)) }

    /// The earliest time from `now` at which one more request fits, as the previous window's
    /// weight decays (or the window rolls).
    private func retryAfter(now: Double) -> Double {
        let elapsed = now - windowStart
        if current + 1 > limit {
            // Full on its own: wait for the next window, whose previous weight then decays.
            let next = windowSeconds - elapsed
            let needed = Double(current) - Double(limit - 1)
            let decay = current > 0 ? windowSeconds * min(1, needed / Double(current)) : 0
            return max(0.001, next + decay)
        }
        // estimate = previous × (1 − t/window) + current ≤ limit − 1 solved for t.
        guard previous > 0 else { return max(0.001, windowSeconds - elapsed) }
        let t = windowSeconds * (1 - (Double(limit - 1 - current)) / Double(previous))
        return max(0.001, t - elapsed)
    }
}
