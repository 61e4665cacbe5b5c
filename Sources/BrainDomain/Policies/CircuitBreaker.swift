/// The circuit breaker of one upstream instance, as a pure state machine: it is told the time
/// and what happened, and answers what to do. No clock, lock or I/O inside, so every transition
/// is unit-tested exactly; `BreakerGroup` holds one per instance, shared by every event loop.
///
/// closed → (`failureThreshold` consecutive failures) → open → (after the open time) half-open,
/// admitting up to `halfOpenProbes` requests at once → closed on `halfOpenProbes` successes, or
/// open again on any failure with the open time doubled (up to `maxOpenSeconds`). An open
/// breaker always probes again: an instance that recovered must be able to prove it.
public struct CircuitBreaker: Sendable, Equatable {
    public struct Configuration: Sendable, Equatable {
        public var failureThreshold: Int
        public var openSeconds: Double
        public var maxOpenSeconds: Double
        public var halfOpenProbes: Int

        public init(failureThreshold: Int = 5, openSeconds: Double = 60, maxOpenSeconds: Double = 600, halfOpenProbes: Int = 1) {
            self.failureThreshold = max(1, failureThreshold)
            self.openSeconds = max(0.001, openSeconds)
            self.maxOpenSeconds = max(self.openSeconds, maxOpenSeconds)
            self.halfOpenProbes = max(1, halfOpenProbes)
        }

        public init(_ thresholds: CircuitBreakerThresholds) {
            self.init(
                failureThreshold: thresholds.failureThreshold, openSeconds: Double(thresholds.openSeconds),
                maxOpenSeconds: Double(thresholds.maxOpenSeconds), halfOpenProbes: thresholds.halfOpenRequests)
        }
    }

    public enum State: Sendable, Equatable {
        case closed(consecutiveFailures: Int)
        /// Rejecting until `until`; `openings` counts consecutive openings (for the back-off).
        case open(until: Double, openings: Int)
        case halfOpen(inFlight: Int, successes: Int, openings: Int)
    }

    public enum Admission: Sendable, Equatable {
        case admitted
        /// Admitted as one of the half-open probes.
        case probe
        /// Refused; the caller may retry after this many seconds (`Retry-After`).
        case rejected(retryAfter: Double)
    }

    public enum Transition: Sendable, Equatable {
        case opened(forSeconds: Double)
        case halfOpened
        case closed
    }

    public let configuration: Configuration
    public private(set) var state: State = .closed(consecutiveFailures: 0)

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    /// Whether a request may go to this instance now.
    public mutating func admit(now: Double) -> (Admission, Transition?) {
        switch state {
        case .closed:
            return (.admitted, nil)
        case .open(let until, let openings):
            guard now >= until else { return (.rejected(retryAfter: until - now), nil) }
            state = .halfOpen(inFlight: 1, successes: 0, openings: openings)
            return (.probe, .halfOpened)
        case .halfOpen(let inFlight, let successes, let openings):
            guard inFlight + successes < configuration.halfOpenProbes else {
                // Probes are out; others wait for their verdict (briefly).
                return (.rejected(retryAfter: 1), nil)
            }
            state = .halfOpen(inFlight: inFlight + 1, successes: successes, openings: openings)
            return (.probe, nil)
        }
    }

    /// The request succeeded.
    public mutating func recordSuccess(now: Double) -> Transition? {
        switch state {
        case .closed:
            state = .closed(consecutiveFailures: 0)
            return nil
        case .open:
            // A response to a request admitted before the breaker opened: no evidence either way.
            return nil
        case .halfOpen(let inFlight, let successes, let openings):
            let done = successes + 1
            if done >= configuration.halfOpenProbes {
                state = .closed(consecutiveFailures: 0)
                return .closed
            }
            state = .halfOpen(inFlight: max(0, inFlight - 1), successes: done, openings: openings)
            return nil
        }
    }

    /// The request failed (connect error, reset, timeout, or a status counted as failure).
    public mutating func recordFailure(now: Double) -> Transition? {
        switch state {
        case .closed(let failures):
            let count = failures + 1
            guard count >= configuration.failureThreshold else {
                state = .closed(consecutiveFailures: count)
                return nil
            }
            return open(now: now, openings: 1)
        case .open:
            return nil
        case .halfOpen(_, _, let openings):
            return open(now: now, openings: openings + 1)
        }
    }

    /// An admitted request ended with no verdict (the client left, or the gateway gave up
    /// before the upstream answered for reasons of its own): frees its half-open probe slot.
    public mutating func recordAbandoned() {
        if case .halfOpen(let inFlight, let successes, let openings) = state {
            state = .halfOpen(inFlight: max(0, inFlight - 1), successes: successes, openings: openings)
        }
    }

    /// The active health monitor saw the instance answer: an open breaker stops waiting and
    /// lets the next request probe at once (live traffic then decides), so recovery never
    /// depends on the open timer alone.
    public mutating func healthProbeSucceeded(now: Double) {
        if case .open(let until, let openings) = state, until > now {
            state = .open(until: now, openings: openings)
        }
    }

    /// Whether the next failure would open a closed breaker.
    public var opensOnNextFailure: Bool {
        if case .closed(let failures) = state { return failures + 1 >= configuration.failureThreshold }
        return false
    }

    /// Closed with no failures counted: successes change nothing.
    public var isCalm: Bool { state == .closed(consecutiveFailures: 0) }

    /// Open or half-open: out of normal rotation.
    public var isEjected: Bool {
        if case .closed = state { return false }
        return true
    }

    /// Open time for the n-th consecutive opening: `openSeconds × 2^(n-1)`, capped.
    public func openTime(openings: Int) -> Double {
        var seconds = configuration.openSeconds
        var n = 1
        while n < openings && seconds < configuration.maxOpenSeconds {
            seconds *= 2
            n += 1
        }
        return min(seconds, configuration.maxOpenSeconds)
    }

    private mutating func open(now: Double, openings: Int) -> Transition {
        let seconds = openTime(openings: openings)
        state = .open(until: now + seconds, openings: openings)
        return .opened(forSeconds: seconds)
    }
}
