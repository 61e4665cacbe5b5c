import BrainInfrastructure

/// The progress of one proxied exchange — the client's request on one side, the upstream
/// attempts on the other — as a value that takes events and returns what to do.
///
/// It owns every decision that depends on where both sides are: whether a body part goes
/// upstream now, waits for a connection or is dropped; whether a failure is retried, answered
/// or can only cut the response short; whether the upstream connection can be reused; whether
/// the client connection outlives the exchange. The handler performs the actions and owns the
/// sockets, buffers and timers. Every upstream event carries the attempt it belongs to, so a
/// callback from an abandoned attempt (a connect completing after a timeout, a failure after
/// a retry started) is ignored by construction rather than by a check at each call site.
struct ExchangeStateMachine: Sendable {
    /// Where the upstream side is.
    enum Upstream: Equatable, Sendable {
        /// No attempt was started yet.
        case selecting
        /// A connection is being opened (or taken from the pool) for `attempt`.
        case connecting(attempt: Int)
        /// The request went out on `attempt`'s connection; no response head yet.
        case awaitingHead(attempt: Int)
        /// The response head went to the client; the body is being relayed.
        case relaying(attempt: Int)
        /// `attempt` failed and the next one waits out its backoff.
        case backingOff(attempt: Int)
        /// The exchange is over: response complete, answered by the gateway, cut, or abandoned.
        case finished
    }

    /// The rules one exchange runs under, fixed when it starts.
    struct Rules: Sendable {
        var retryPolicy: RetryPolicy
        /// Retries allowed after the first attempt (the service's `retry.retries`).
        var maxRetries: Int
        /// The method (or an `Idempotency-Key`) lets the request be sent again.
        var retryableRequest: Bool
        /// The request body limit (the stage that also checks the declared length).
        var bodyLimit: BodyLimit
    }

    private(set) var upstream: Upstream = .selecting
    /// The client sent its whole request.
    private(set) var requestEnded: Bool
    /// Attempts started so far (1 during the first).
    private(set) var attempt = 0
    /// Request body bytes received from the client.
    private(set) var bytesIn: Int64 = 0
    /// Every body byte received so far is kept, so another attempt can send it again.
    private(set) var bodyReplayable = true
    /// Some of the response went to the client (relayed, served from the cache, or the
    /// gateway's own answer): nothing can be retried any more.
    private(set) var responseStarted = false
    private let rules: Rules

    init(rules: Rules, requestEnded: Bool = false) {
        self.rules = rules
        self.requestEnded = requestEnded
    }

    var isFinished: Bool { upstream == .finished }

    /// The attempt whose connection carries the request, if one does.
    var attachedAttempt: Int? {
        switch upstream {
        case .awaitingHead(let attempt), .relaying(let attempt): attempt
        default: nil
        }
    }

    // MARK: Attempts

    /// Starts the next attempt; the handler picks an instance and asks the pool for a connection.
    mutating func beginAttempt() -> Int {
        precondition(!isFinished, "an attempt cannot start after the exchange finished")
        attempt += 1
        upstream = .connecting(attempt: attempt)
        return attempt
    }

    enum ConnectedAction: Equatable, Sendable {
        /// Write the request head, then (`replay`) the body parts already sent on an earlier
        /// attempt, then those held while connecting; `end` when the request is complete.
        case writeRequest(replay: Bool, end: Bool)
        /// The attempt is no longer wanted (timed out, client gone): give the fresh connection
        /// back to the pool unused.
        case releaseUnused
    }

    /// `attempt` has a connection.
    mutating func connected(attempt: Int) -> ConnectedAction {
        guard upstream == .connecting(attempt: attempt) else { return .releaseUnused }
        upstream = .awaitingHead(attempt: attempt)
        return .writeRequest(replay: attempt > 1, end: requestEnded)
    }

    // MARK: Request side

    enum BodyAction: Equatable, Sendable {
        /// Write the part on the attached connection (not flushed); keep it for a replay while
        /// `bodyReplayable`.
        case write
        /// No connection yet: hold the part until there is one.
        case hold
        /// The exchange is over (or the response ended early): drop the part.
        case discard
        /// Over the body limit before any response: abandon the upstream, answer 413.
        case rejectTooLarge
        /// Over the body limit while a response is being relayed: close the client connection.
        case cutShort
    }

    /// A part of the request body arrived, `bytes` long. Parts are kept for a replay while the
    /// whole body fits `replayLimit`; past it, retries of this exchange are off.
    mutating func requestBody(bytes: Int, replayLimit: Int) -> BodyAction {
        guard !isFinished, !requestEnded else { return .discard }
        bytesIn += Int64(bytes)
        if !rules.bodyLimit.allows(received: bytesIn) {
            upstream = .finished
            return responseStarted ? .cutShort : .rejectTooLarge
        }
        if bodyReplayable, bytesIn > Int64(replayLimit) { bodyReplayable = false }
        return attachedAttempt == nil ? .hold : .write
    }

    enum RequestEndAction: Equatable, Sendable {
        /// End the request on the attached connection (and flush).
        case writeEnd
        /// Nothing to do now: the end goes out with the request when a connection comes, or the
        /// exchange is over.
        case none
    }

    /// The client's request is complete.
    mutating func requestEnd() -> RequestEndAction {
        guard !requestEnded else { return .none }
        requestEnded = true
        return attachedAttempt == nil ? .none : .writeEnd
    }

    // MARK: Upstream side

    enum HeadAction: Equatable, Sendable {
        /// Relay the upstream's head to the client.
        case relay
        /// The upstream confirmed the stored response (304 to the cache's validators): serve
        /// that instead, and ignore the upstream's own (empty) body.
        case serveStored
        /// From an attempt that is no longer current.
        case ignore
    }

    /// `attempt`'s upstream sent its final response head.
    mutating func responseHead(attempt: Int, status: UInt, validatorsSent: Bool) -> HeadAction {
        guard upstream == .awaitingHead(attempt: attempt) else { return .ignore }
        upstream = .relaying(attempt: attempt)
        responseStarted = true
        return validatorsSent && status == 304 ? .serveStored : .relay
    }

    /// Whether a response body part from `attempt` is to be relayed.
    func relays(attempt: Int) -> Bool {
        upstream == .relaying(attempt: attempt)
    }

    enum ResponseEndAction: Equatable, Sendable {
        /// Release the upstream connection (`reusable` when the request went out whole) and
        /// end the client's response; `closeClient` when the client connection cannot go on
        /// (the rest of its request body was never read).
        case complete(reusable: Bool, closeClient: Bool)
        case ignore
    }

    /// `attempt`'s response is complete.
    mutating func responseEnd(attempt: Int) -> ResponseEndAction {
        guard upstream == .relaying(attempt: attempt) else { return .ignore }
        upstream = .finished
        return .complete(reusable: requestEnded, closeClient: !requestEnded)
    }

    enum FailureAction: Equatable, Sendable {
        /// Wait out a backoff, then `backoffElapsed(attempt:)`: another attempt may go.
        case retry(after: Int)
        /// Answer the client with the failure (502/504).
        case respond(UpstreamFailure)
        /// Part of the response is already with the client: close its connection.
        case cutShort
        /// From an attempt that is no longer current.
        case ignore
    }

    /// `attempt` failed: connect error, connection closed, invalid response, or its deadline.
    mutating func upstreamFailed(attempt: Int, _ failure: UpstreamFailure) -> FailureAction {
        switch upstream {
        case .connecting(attempt), .awaitingHead(attempt):
            let retry = rules.retryPolicy.shouldRetry(
                failure: failure.kind, attempt: attempt, maxRetries: rules.maxRetries, retryableRequest: rules.retryableRequest,
                responseStarted: responseStarted, bodyReplayable: bodyReplayable)
            if retry {
                upstream = .backingOff(attempt: attempt)
                return .retry(after: attempt)
            }
            upstream = .finished
            responseStarted = true
            return .respond(failure)
        case .relaying(attempt):
            upstream = .finished
            return .cutShort
        default:
            return .ignore
        }
    }

    /// The retry budget refused the retry after `attempt`: the failure is the answer.
    mutating func retryRefused(after attempt: Int, _ failure: UpstreamFailure) -> FailureAction {
        guard upstream == .backingOff(attempt: attempt) else { return .ignore }
        upstream = .finished
        responseStarted = true
        return .respond(failure)
    }

    /// The backoff after `attempt` is over: true when the next attempt should start.
    func backoffElapsed(after attempt: Int) -> Bool {
        upstream == .backingOff(attempt: attempt)
    }

    /// The exchange's deadline for a response head passed. Whatever attempt is connecting,
    /// waiting or backing off is abandoned (the handler closes its connection or cancels its
    /// backoff); a timeout is never retried.
    mutating func deadlinePassed(timeoutMilliseconds: Int) -> FailureAction {
        switch upstream {
        case .selecting, .connecting, .awaitingHead, .backingOff:
            upstream = .finished
            responseStarted = true
            return .respond(.timedOut(afterMilliseconds: timeoutMilliseconds))
        case .relaying, .finished:
            return .ignore
        }
    }

    // MARK: Endings decided by the handler

    /// The gateway answered the request itself (circuit open, body too large, an error after
    /// the last attempt). True when the client connection can stay open: only if it read the
    /// whole request, so the next bytes are the next request.
    mutating func gatewayAnswered() -> Bool {
        upstream = .finished
        responseStarted = true
        return requestEnded
    }

    /// The client connection closed or the exchange was cut. True when it was still running
    /// (the handler abandons the upstream and records the exchange).
    mutating func abandon() -> Bool {
        guard !isFinished else { return false }
        upstream = .finished
        return true
    }
}

extension UpstreamFailure {
    /// The class retry rules look at.
    var kind: UpstreamFailureKind {
        switch self {
        case .connectFailed: .connectFailed
        case .connectionClosed: .connectionClosed
        case .invalidResponse: .invalidResponse
        case .timedOut: .timedOut
        }
    }
}
