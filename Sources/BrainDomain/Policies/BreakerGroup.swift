/// The circuit breakers of one service's instances, rolled up: admission per instance, and the
/// ejection cap — never more than `maxEjected` instances out of rotation at once (Envoy's
/// `max_ejection_percent`), so a fault shared by every instance (a bad deploy, a dead database
/// behind them) degrades the service instead of emptying it. Pure: the caller passes the time.
public struct BreakerGroup: Sendable, Equatable {
    public private(set) var breakers: [CircuitBreaker]
    public let maxEjected: Int

    public init(thresholds: CircuitBreakerThresholds, instanceCount: Int) {
        let configuration = CircuitBreaker.Configuration(thresholds)
        self.breakers = Array(repeating: CircuitBreaker(configuration: configuration), count: instanceCount)
        self.maxEjected = thresholds.maxEjected(instanceCount: instanceCount)
    }

    /// Instances currently open or half-open.
    public var ejectedCount: Int { breakers.reduce(0) { $0 + ($1.isEjected ? 1 : 0) } }

    /// Every breaker closed with no failure counted: admission is certain and successes are no-ops.
    public var isCalm: Bool { breakers.allSatisfy(\.isCalm) }

    public mutating func admit(_ instance: Int, now: Double) -> (CircuitBreaker.Admission, CircuitBreaker.Transition?) {
        breakers[instance].admit(now: now)
    }

    /// Whether `admit` would let a request through now, without taking a probe slot.
    public func wouldAdmit(_ instance: Int, now: Double) -> Bool {
        switch breakers[instance].state {
        case .closed: true
        case .open(let until, _): now >= until
        case .halfOpen(let inFlight, let successes, _): inFlight + successes < breakers[instance].configuration.halfOpenProbes
        }
    }

    /// Seconds until some instance admits again (for `Retry-After` when none does now).
    public func secondsUntilAdmission(now: Double) -> Double {
        var soonest = Double.infinity
        for breaker in breakers {
            switch breaker.state {
            case .closed: return 0
            case .open(let until, _): soonest = min(soonest, max(0, until - now))
            case .halfOpen: soonest = min(soonest, 1)
            }
        }
        return soonest == .infinity ? 1 : soonest
    }

    /// Seconds until instance `instance` admits again (0 when it does now).
    public func secondsUntilAdmission(_ instance: Int, now: Double) -> Double {
        switch breakers[instance].state {
        case .closed: 0
        case .open(let until, _): max(0, until - now)
        case .halfOpen: wouldAdmit(instance, now: now) ? 0 : 1
        }
    }

    public mutating func recordSuccess(_ instance: Int, now: Double) -> CircuitBreaker.Transition? {
        breakers[instance].recordSuccess(now: now)
    }

    /// A failure; a closed breaker whose opening would exceed the ejection cap stays closed at
    /// one failure short of the threshold, so it opens as soon as a slot frees.
    public mutating func recordFailure(_ instance: Int, now: Double) -> CircuitBreaker.Transition? {
        if breakers[instance].opensOnNextFailure && ejectedCount >= maxEjected { return nil }
        return breakers[instance].recordFailure(now: now)
    }

    public mutating func recordAbandoned(_ instance: Int) {
        breakers[instance].recordAbandoned()
    }

    public mutating func healthProbeSucceeded(_ instance: Int, now: Double) {
        breakers[instance].healthProbeSucceeded(now: now)
    }
}
