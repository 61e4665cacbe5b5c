import NIOCore

/// The bookkeeping of one event loop's upstream connections, as a value that takes events and
/// returns what to do; `UpstreamConnectionPool` performs the actions on real sockets.
///
/// Per instance it keeps idle connections last-in first-out (the warmest socket first, so the
/// others can time out at the server and shrink the pool), counts every open connection —
/// connecting, leased or idle — against a cap, queues requesters past the cap and hands them
/// connections as others come back or close, and backs off connecting to an instance whose
/// connects keep failing: during the backoff a requester fails at once with the last connect
/// error (so it can retry elsewhere and the breaker hears of it) instead of each one opening
/// a doomed connection. Generic over the connection and waiter so it is tested without sockets.
public struct UpstreamPoolStateMachine<Key: Hashable & Sendable, Connection: Hashable & Sendable, Waiter: Hashable & Sendable>: Sendable {
    public struct Limits: Sendable {
        /// Idle connections kept per instance; more are closed when released.
        public var maxIdle: Int
        /// Open connections (connecting, leased or idle) per instance; past it requesters wait.
        public var maxOpen: Int
        /// The first connect backoff; each further consecutive failure doubles it, up to `backoffCap`.
        public var backoffBase: TimeAmount
        public var backoffCap: TimeAmount

        public init(maxIdle: Int, maxOpen: Int, backoffBase: TimeAmount = .milliseconds(25), backoffCap: TimeAmount = .seconds(1)) {
            self.maxIdle = maxIdle
            self.maxOpen = max(1, maxOpen)
            self.backoffBase = backoffBase
            self.backoffCap = backoffCap
        }
    }

    fileprivate struct InstanceState: Sendable {
        var idle: [Connection] = []
        /// Connecting, leased and idle connections.
        var open = 0
        var waiters = CircularBuffer<Waiter>()
        var consecutiveFailures = 0
        var backoffUntil: NIODeadline = .uptimeNanoseconds(0)
        var lastFailure = ""
    }

    /// Each instance's slot in `states`. Instances are looked up here and their state changed
    /// through an array index: a dictionary's in-place mutation through an optional subscript
    /// cost several allocations per request where an array's costs none.
    private var slots: [Key: Int] = [:]
    private var states: [InstanceState] = []
    private let limits: Limits

    public init(limits: Limits) {
        self.limits = limits
    }

    // MARK: Acquiring

    public enum AcquireAction: Equatable, Sendable {
        /// Use this idle connection.
        case use(Connection)
        /// Open a new connection for the requester, then report `connectSucceeded`/`connectFailed`.
        case connect
        /// The instance is at its cap: the requester was queued and gets a connection from a
        /// later `release` (`handOver`) or `closed` (`connect(for:)`).
        case wait
        /// Connects to the instance are backing off: fail with the last connect error.
        case fail(String)
    }

    public mutating func acquire(_ key: Key, waiter: Waiter, now: NIODeadline) -> AcquireAction {
        let slot = slot(for: key)
        // In place: copying the state out and back would copy the idle list per request.
        if let connection = states[slot].idle.popLast() { return .use(connection) }
        return states[slot].admit(waiter, now: now, maxOpen: limits.maxOpen)
    }

    /// The slot of `key`'s state, made on first use. Slots are never removed: an instance that
    /// left the registry keeps a few bytes here.
    private mutating func slot(for key: Key) -> Int {
        if let slot = slots[key] { return slot }
        states.append(InstanceState())
        slots[key] = states.count - 1
        return states.count - 1
    }

    /// A connect for `key` succeeded: its backoff is over.
    public mutating func connectSucceeded(_ key: Key) {
        guard let slot = slots[key] else { return }
        states[slot].consecutiveFailures = 0
    }

    /// A connect for `key` failed (`reason` in plain words). Returns the waiters to fail with
    /// it: the instance now backs off, so none of them gets a connection soon.
    public mutating func connectFailed(_ key: Key, reason: String, now: NIODeadline) -> [Waiter] {
        guard let slot = slots[key] else { return [] }
        states[slot].open -= 1
        states[slot].consecutiveFailures += 1
        states[slot].lastFailure = reason
        let exponent = min(20, states[slot].consecutiveFailures - 1)
        let delay = min(limits.backoffCap.nanoseconds, limits.backoffBase.nanoseconds << Int64(exponent))
        states[slot].backoffUntil = now + .nanoseconds(delay)
        guard !states[slot].waiters.isEmpty else { return [] }
        let failed = Array(states[slot].waiters)
        states[slot].waiters.removeAll(keepingCapacity: true)
        return failed
    }

    // MARK: Returning

    public enum ReleaseAction: Equatable, Sendable {
        /// Give the connection straight to this queued requester.
        case handOver(Connection, to: Waiter)
        /// It is idle in the pool now.
        case keepIdle
        /// Close it (not reusable, or the idle list is full); `closed` follows when it is.
        case close
    }

    /// A leased connection comes back after an exchange; `reusable` when it can carry another.
    public mutating func release(_ key: Key, _ connection: Connection, reusable: Bool) -> ReleaseAction {
        guard reusable, let slot = slots[key] else { return .close }
        if let waiter = states[slot].waiters.popFirst() { return .handOver(connection, to: waiter) }
        guard states[slot].idle.count < limits.maxIdle else { return .close }
        states[slot].idle.append(connection)
        return .keepIdle
    }

    public enum ClosedAction: Equatable, Sendable {
        case none
        /// A slot freed up: open a new connection for this queued requester.
        case connect(for: Waiter)
    }

    /// An open connection of `key` closed (by either side, idle or leased). Every connection
    /// that `connect` opened reports this exactly once, which keeps the count right however the
    /// connection ended.
    public mutating func closed(_ key: Key, _ connection: Connection, now: NIODeadline) -> ClosedAction {
        guard let slot = slots[key] else { return .none }
        states[slot].open -= 1
        if let index = states[slot].idle.firstIndex(of: connection) { states[slot].idle.remove(at: index) }
        guard now >= states[slot].backoffUntil, let waiter = states[slot].waiters.popFirst() else { return .none }
        states[slot].open += 1
        return .connect(for: waiter)
    }

    /// Shutdown: every idle connection to close and every queued requester to fail.
    public mutating func drain() -> (idle: [Connection], waiters: [Waiter]) {
        var idle: [Connection] = []
        var waiters: [Waiter] = []
        for slot in states.indices {
            idle += states[slot].idle
            waiters += states[slot].waiters
            states[slot].idle.removeAll()
            states[slot].waiters.removeAll()
        }
        return (idle, waiters)
    }

    // MARK: Reading

    public var idleCount: Int { states.reduce(0) { $0 + $1.idle.count } }

    /// Connecting, leased and idle connections to `key`.
    public func openCount(_ key: Key) -> Int { slots[key].map { states[$0].open } ?? 0 }

    public func waiterCount(_ key: Key) -> Int { slots[key].map { states[$0].waiters.count } ?? 0 }
}

extension UpstreamPoolStateMachine.InstanceState {
    fileprivate mutating func admit(_ waiter: Waiter, now: NIODeadline, maxOpen: Int) -> UpstreamPoolStateMachine.AcquireAction {
        if now < backoffUntil { return .fail(lastFailure) }
        if open < maxOpen {
            open += 1
            return .connect
        }
        waiters.append(waiter)
        return .wait
    }
}
