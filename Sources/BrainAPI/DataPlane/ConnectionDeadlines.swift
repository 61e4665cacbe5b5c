import NIOCore

/// The client connection's deadlines — idle keep-alive, request head (slowloris), and the
/// exchange's wait for an upstream response head — watched by one timer, as a value that takes
/// events and says when the timer must fire and what expired.
///
/// A keep-alive connection does not schedule a timer per request: a timer armed earlier than
/// the next deadline is kept (it re-arms when it fires), and only a deadline earlier than the
/// armed one replaces it. So a busy connection costs about one scheduled task per timeout
/// period, not one per request.
struct ConnectionDeadlines: Sendable {
    let idleTimeout: TimeAmount
    let headTimeout: TimeAmount
    /// When the connection became idle; nil while a request is in progress.
    private(set) var idleSince: NIODeadline?
    /// When the first byte of a request head arrived; nil when none is arriving.
    private(set) var headStartedAt: NIODeadline?
    /// When the exchange in progress times out unless the upstream's response head came.
    private(set) var upstream: NIODeadline?
    /// When the armed timer fires; nil when none is armed.
    private(set) var armed: NIODeadline?

    init(idleTimeout: TimeAmount, headTimeout: TimeAmount) {
        self.idleTimeout = idleTimeout
        self.headTimeout = headTimeout
    }

    enum TimerAction: Equatable, Sendable {
        case keep
        /// Cancel the armed timer (if any) and arm one for this moment.
        case arm(NIODeadline)
    }

    /// The connection waits for a request from `now`.
    mutating func becameIdle(now: NIODeadline) -> TimerAction {
        idleSince = now
        headStartedAt = nil
        return rearm()
    }

    /// Bytes arrived; if the connection was idle, a head started and its deadline runs.
    mutating func bytesArrived(now: NIODeadline) -> TimerAction {
        guard idleSince != nil, headStartedAt == nil else { return .keep }
        headStartedAt = now
        return rearm()
    }

    /// A request head is complete: the idle and head deadlines stop.
    mutating func requestStarted() {
        idleSince = nil
        headStartedAt = nil
    }

    /// An exchange waits for its upstream's head until `deadline`.
    mutating func awaitUpstream(until deadline: NIODeadline) -> TimerAction {
        upstream = deadline
        return rearm()
    }

    /// The upstream answered, or the exchange ended.
    mutating func upstreamSettled() {
        upstream = nil
    }

    /// The connection became a tunnel: nothing here applies any more. True when a timer was
    /// armed (the handler cancels it).
    mutating func stopAll() -> Bool {
        idleSince = nil
        headStartedAt = nil
        upstream = nil
        defer { armed = nil }
        return armed != nil
    }

    enum Expired: Equatable, Sendable {
        /// The exchange's upstream did not answer in time.
        case upstream
        /// A request head started and did not finish in time: answer 408 and close.
        case head
        /// Idle too long: close.
        case idle
    }

    /// The armed timer fired at `now`: what expired (the upstream first), and whether the
    /// timer must be armed again for the deadlines still ahead. An idle or head expiry
    /// counts only while the connection is `idle` (between requests).
    mutating func timerFired(now: NIODeadline, idle: Bool) -> (expired: [Expired], next: TimerAction) {
        armed = nil
        var expired: [Expired] = []
        if let deadline = upstream, deadline <= now {
            upstream = nil
            expired.append(.upstream)
        }
        if let deadline = idleDeadline, deadline <= now {
            // Not between requests after all (a request is being answered): nothing to do
            // until it is, and then `becameIdle` starts the deadlines again.
            guard idle else { return (expired, .keep) }
            expired.append(headStartedAt != nil ? .head : .idle)
            idleSince = nil
            headStartedAt = nil
            return (expired, .keep)
        }
        return (expired, rearm())
    }

    /// Idle keep-alive and head deadlines, while waiting for a request.
    private var idleDeadline: NIODeadline? {
        guard let idleSince else { return nil }
        let idle = idleSince + idleTimeout
        guard let headStartedAt else { return idle }
        return min(idle, headStartedAt + headTimeout)
    }

    private var nextDeadline: NIODeadline? {
        switch (idleDeadline, upstream) {
        case (nil, nil): nil
        case (let a?, nil): a
        case (nil, let b?): b
        case (let a?, let b?): min(a, b)
        }
    }

    /// A timer at or before the next deadline: an earlier armed one is kept.
    private mutating func rearm() -> TimerAction {
        guard let deadline = nextDeadline else { return .keep }
        if let armed, armed <= deadline { return .keep }
        armed = deadline
        return .arm(deadline)
    }
}
