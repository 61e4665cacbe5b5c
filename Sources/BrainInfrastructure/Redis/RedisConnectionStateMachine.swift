import BrainRESP
import NIOCore

/// Why a Redis call did not get its answer. The callers (rate limits, the shared cache) never
/// turn one into a 5xx: each falls back to what the replica knows alone.
public enum RedisCallFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// No answer within the call's timeout (`REDIS_TIMEOUT_MS`).
    case timedOut
    /// The connection could not be opened or was lost; calls fail at once until the
    /// reconnect backoff has passed.
    case unavailable(String)
    /// `AUTH` or `SELECT` was refused: a configuration error, reported once per attempt.
    case handshakeRefused(String)
    /// Too many calls waiting for a connection.
    case overloaded
    case shutDown

    public var description: String {
        switch self {
        case .timedOut: "no answer in time"
        case .unavailable(let why): "unavailable: \(why)"
        case .handshakeRefused(let why): "handshake refused: \(why)"
        case .overloaded: "too many calls waiting"
        case .shutDown: "shut down"
        }
    }
}

/// The life of one pipelined Redis connection, as a value: calls are written as they come and
/// matched to replies in order; each has a deadline; the connection is opened on demand,
/// greeted (`AUTH`, `SELECT`), and reopened after a backoff when lost or stalled.
///
/// `Call` is whatever the driver needs to answer a caller (a promise and its command); the
/// machine only orders and times them, so it is tested without sockets.
public struct RedisConnectionStateMachine<Call> {
    public enum Phase: Equatable, Sendable {
        case idle
        case connecting
        case greeting
        case ready
        case backingOff
        case shutDown
    }

    public enum Action {
        case none
        /// Open the connection; calls made meanwhile wait.
        case connect
        /// Write this call (the driver flushes once per event-loop tick).
        case write(Call)
        /// The connection is open: write the greeting, then these waiting calls.
        case greet(then: [Call])
        /// The greeting was answered: write the calls that waited for it.
        case writeWaiting([Call])
        case succeed(Call, RESPValue)
        case fail([Call], RedisCallFailure)
        /// Fail these, close the connection (the stream can no longer be trusted, or the
        /// server stalled) and try again after `reconnectAfter`.
        case closeAndFail([Call], RedisCallFailure, reconnectAfter: TimeAmount)
        /// Fail these and try again after `reconnectAfter`.
        case failAndReconnect([Call], RedisCallFailure, reconnectAfter: TimeAmount)
    }

    private struct Entry {
        /// Nil for a greeting reply, or a call whose caller was already told it timed out.
        var call: Call?
        let deadline: NIODeadline
    }

    public private(set) var phase: Phase = .idle
    private let greetingReplies: Int
    private let maxWaiting: Int
    /// How long past its deadline the oldest unanswered call may stay before the connection
    /// is taken for stalled (a stopped server keeps its sockets open) and replaced.
    private let stallAfter: TimeAmount
    private var waiting = CircularBuffer<Entry>()
    private var inFlight = CircularBuffer<Entry>()
    private var greetingsLeft = 0
    private var failures = 0

    public init(greetingReplies: Int, maxWaiting: Int = 4096, stallAfter: TimeAmount = .seconds(1)) {
        self.greetingReplies = greetingReplies
        self.maxWaiting = maxWaiting
        self.stallAfter = stallAfter
    }

    /// A call; `deadline` is when its caller stops waiting.
    public mutating func send(_ call: Call, deadline: NIODeadline) -> Action {
        switch phase {
        case .ready:
            inFlight.append(Entry(call: call, deadline: deadline))
            return .write(call)
        case .idle:
            waiting.append(Entry(call: call, deadline: deadline))
            phase = .connecting
            return .connect
        case .connecting, .greeting:
            guard waiting.count < maxWaiting else { return .fail([call], .overloaded) }
            waiting.append(Entry(call: call, deadline: deadline))
            return .none
        case .backingOff:
            // Fail at once: the caller decides alone rather than wait for a connection that
            // was just lost.
            return .fail([call], .unavailable("reconnecting"))
        case .shutDown:
            return .fail([call], .shutDown)
        }
    }

    public mutating func connected() -> Action {
        guard phase == .connecting else { return .none }
        let calls = waiting.compactMap(\.call)
        if greetingReplies == 0 {
            phase = .ready
            failures = 0
            inFlight.append(contentsOf: waiting)
            waiting.removeAll()
            return .writeWaiting(calls)
        }
        phase = .greeting
        greetingsLeft = greetingReplies
        for _ in 0..<greetingReplies { inFlight.append(Entry(call: nil, deadline: .distantFuture)) }
        inFlight.append(contentsOf: waiting)
        waiting.removeAll()
        return .greet(then: calls)
    }

    public mutating func connectFailed(_ reason: String) -> Action {
        guard phase == .connecting else { return .none }
        return lost(.unavailable(reason), close: false)
    }

    /// One reply, which answers the oldest unanswered call.
    public mutating func received(_ reply: RESPValue) -> Action {
        guard phase == .greeting || phase == .ready, let entry = inFlight.popFirst() else {
            // A reply nobody asked for: the stream is out of step.
            return phase == .shutDown ? .none : lost(.unavailable("unexpected reply"), close: true)
        }
        if phase == .greeting, greetingsLeft > 0, entry.call == nil {
            if case .error(let text) = reply { return refused(text) }
            greetingsLeft -= 1
            if greetingsLeft == 0 {
                phase = .ready
                failures = 0
            }
            return .none
        }
        guard let call = entry.call else { return .none }
        return .succeed(call, reply)
    }

    /// The stream could not be decoded.
    public mutating func protocolError(_ description: String) -> Action {
        lost(.unavailable("protocol error: \(description)"), close: true)
    }

    public mutating func closed() -> Action {
        switch phase {
        case .idle, .backingOff, .shutDown: return .none
        case .connecting, .greeting, .ready: return lost(.unavailable("connection closed"), close: false)
        }
    }

    /// The reconnect backoff has passed: the next call opens a connection.
    public mutating func reconnectDue() {
        if phase == .backingOff { phase = .idle }
    }

    /// Calls past their deadline are failed (a late reply to one is read and dropped); a
    /// connection whose oldest call is far past it is replaced.
    public mutating func timeoutsDue(now: NIODeadline) -> Action {
        var expired: [Call] = []
        while let first = waiting.first, first.deadline <= now {
            waiting.removeFirst()
            if let call = first.call { expired.append(call) }
        }
        var stalled = false
        for index in inFlight.indices where inFlight[index].deadline <= now {
            if let call = inFlight[index].call {
                expired.append(call)
                inFlight[index].call = nil
            }
            if inFlight[index].deadline + stallAfter <= now { stalled = true }
        }
        if stalled, phase == .ready || phase == .greeting {
            var action = lost(.timedOut, close: true)
            if case .closeAndFail(let calls, let failure, let delay) = action { action = .closeAndFail(expired + calls, failure, reconnectAfter: delay) }
            return action
        }
        return expired.isEmpty ? .none : .fail(expired, .timedOut)
    }

    /// The earliest deadline of a call still waiting for its answer (the driver's one timer).
    public var nextDeadline: NIODeadline? {
        let waitingFirst = waiting.first(where: { $0.call != nil })?.deadline
        let inFlightFirst = inFlight.first(where: { $0.call != nil })?.deadline
        let stall = inFlight.first.map { $0.deadline == .distantFuture ? $0.deadline : $0.deadline + stallAfter }
        return [waitingFirst, inFlightFirst, stall].compactMap { $0 }.filter { $0 != .distantFuture }.min()
    }

    public var hasCallsInFlight: Bool { !inFlight.isEmpty || !waiting.isEmpty }

    public mutating func shutDown() -> Action {
        let calls = drain()
        let wasOpen = phase == .ready || phase == .greeting || phase == .connecting
        phase = .shutDown
        if wasOpen { return .closeAndFail(calls, .shutDown, reconnectAfter: .zero) }
        return calls.isEmpty ? .none : .fail(calls, .shutDown)
    }

    private mutating func refused(_ text: String) -> Action {
        lost(.handshakeRefused(text), close: true)
    }

    private mutating func lost(_ failure: RedisCallFailure, close: Bool) -> Action {
        let calls = drain()
        phase = .backingOff
        failures += 1
        let delay = Self.backoff(failures: failures)
        return close ? .closeAndFail(calls, failure, reconnectAfter: delay) : .failAndReconnect(calls, failure, reconnectAfter: delay)
    }

    private mutating func drain() -> [Call] {
        let calls = inFlight.compactMap(\.call) + waiting.compactMap(\.call)
        inFlight.removeAll()
        waiting.removeAll()
        greetingsLeft = 0
        return calls
    }

    /// 50 ms doubling to 1 s: a returning server is used again within about a second.
    static func backoff(failures: Int) -> TimeAmount {
        .milliseconds(Int64(min(1000, 50 << min(failures - 1, 5))))
    }
}
