@testable import BrainAPI
import BrainInfrastructure
import Testing

/// Both sides of one proxied exchange, event by event, without sockets or clocks.
@Suite struct ExchangeStateMachineTests {
    private static func machine(
        retries: Int = 1, retryable: Bool = true, maxBody: Int64 = 1_000, requestEnded: Bool = false
    ) -> ExchangeStateMachine {
        ExchangeStateMachine(
            rules: .init(retryPolicy: RetryPolicy(), maxRetries: retries, retryableRequest: retryable, bodyLimit: BodyLimit(maxBytes: maxBody)),
            requestEnded: requestEnded)
    }

    @Test func aBodylessRequestGoesOutWithItsEndAndTheConnectionIsReused() {
        var exchange = Self.machine(requestEnded: true)
        let attempt = exchange.beginAttempt()
        #expect(exchange.connected(attempt: attempt) == .writeRequest(replay: false, end: true))
        #expect(exchange.responseHead(attempt: attempt, status: 200, validatorsSent: false) == .relay)
        #expect(exchange.relays(attempt: attempt))
        #expect(exchange.responseEnd(attempt: attempt) == .complete(reusable: true, closeClient: false))
        #expect(exchange.isFinished)
    }

    @Test func bodyPartsWaitForTheConnectionThenGoStraightUpstream() {
        var exchange = Self.machine()
        let attempt = exchange.beginAttempt()
        #expect(exchange.requestBody(bytes: 10, replayLimit: 100) == .hold)
        #expect(exchange.requestEnd() == .none)
        var second = Self.machine()
        let a = second.beginAttempt()
        #expect(second.requestBody(bytes: 10, replayLimit: 100) == .hold)
        #expect(second.connected(attempt: a) == .writeRequest(replay: false, end: false))
        #expect(second.requestBody(bytes: 10, replayLimit: 100) == .write)
        #expect(second.requestEnd() == .writeEnd)
        #expect(second.requestEnd() == .none)
        #expect(second.bytesIn == 20)
        // The first one ended its request while connecting: the end goes out with the head.
        #expect(exchange.connected(attempt: attempt) == .writeRequest(replay: false, end: true))
    }

    @Test func anEarlyResponseBeforeTheBodyEndsClosesTheClientAndDropsTheConnection() {
        var exchange = Self.machine()
        let attempt = exchange.beginAttempt()
        _ = exchange.connected(attempt: attempt)
        #expect(exchange.requestBody(bytes: 100, replayLimit: 1_000) == .write)
        #expect(exchange.responseHead(attempt: attempt, status: 413, validatorsSent: false) == .relay)
        #expect(exchange.responseEnd(attempt: attempt) == .complete(reusable: false, closeClient: true))
        // The rest of the body is not read into anything.
        #expect(exchange.requestBody(bytes: 100, replayLimit: 1_000) == .discard)
        #expect(exchange.requestEnd() == .none)
    }

    @Test func aResetMidBodyIsRetriedWithTheBodyReplayed() {
        var exchange = Self.machine(retries: 1)
        let first = exchange.beginAttempt()
        _ = exchange.connected(attempt: first)
        #expect(exchange.requestBody(bytes: 100, replayLimit: 1_000) == .write)
        #expect(exchange.upstreamFailed(attempt: first, .connectionClosed) == .retry(after: first))
        // Body parts arriving during the backoff wait for the next connection.
        #expect(exchange.requestBody(bytes: 50, replayLimit: 1_000) == .hold)
        #expect(exchange.backoffElapsed(after: first))
        let second = exchange.beginAttempt()
        #expect(second == 2)
        #expect(exchange.connected(attempt: second) == .writeRequest(replay: true, end: false))
        #expect(exchange.requestEnd() == .writeEnd)
        // A late failure report from the first attempt changes nothing.
        #expect(exchange.upstreamFailed(attempt: first, .connectionClosed) == .ignore)
        #expect(exchange.responseHead(attempt: second, status: 201, validatorsSent: false) == .relay)
        #expect(exchange.responseEnd(attempt: second) == .complete(reusable: true, closeClient: false))
    }

    @Test func aBodyTooBigToReplayIsNotRetried() {
        var exchange = Self.machine(retries: 3)
        let first = exchange.beginAttempt()
        _ = exchange.connected(attempt: first)
        #expect(exchange.requestBody(bytes: 60, replayLimit: 100) == .write)
        #expect(exchange.bodyReplayable)
        #expect(exchange.requestBody(bytes: 60, replayLimit: 100) == .write)
        #expect(!exchange.bodyReplayable)
        #expect(exchange.upstreamFailed(attempt: first, .connectionClosed) == .respond(.connectionClosed))
        #expect(exchange.isFinished)
    }

    @Test func retriesStopAtTheServiceLimitAndForNonIdempotentRequests() {
        var exchange = Self.machine(retries: 1, requestEnded: true)
        let first = exchange.beginAttempt()
        #expect(exchange.upstreamFailed(attempt: first, .connectFailed("connection refused")) == .retry(after: 1))
        let second = exchange.beginAttempt()
        #expect(exchange.upstreamFailed(attempt: second, .connectFailed("connection refused")) == .respond(.connectFailed("connection refused")))

        var post = Self.machine(retryable: false, requestEnded: true)
        let only = post.beginAttempt()
        _ = post.connected(attempt: only)
        #expect(post.upstreamFailed(attempt: only, .connectionClosed) == .respond(.connectionClosed))
    }

    @Test func theRetryBudgetCanRefuseARetry() {
        var exchange = Self.machine(requestEnded: true)
        let first = exchange.beginAttempt()
        #expect(exchange.upstreamFailed(attempt: first, .connectionClosed) == .retry(after: first))
        #expect(exchange.retryRefused(after: first, .connectionClosed) == .respond(.connectionClosed))
        #expect(!exchange.backoffElapsed(after: first))
        #expect(Bool(exchange.gatewayAnswered()))
    }

    @Test func aConnectionArrivingAfterTheExchangeFinishedIsReleasedUnused() {
        var exchange = Self.machine(requestEnded: true)
        let attempt = exchange.beginAttempt()
        #expect(exchange.deadlinePassed(timeoutMilliseconds: 500) == .respond(.timedOut(afterMilliseconds: 500)))
        #expect(exchange.connected(attempt: attempt) == .releaseUnused)
        // And after a client close, likewise.
        var other = Self.machine(requestEnded: true)
        let a = other.beginAttempt()
        #expect(Bool(other.abandon()))
        #expect(!Bool(other.abandon()))
        #expect(other.connected(attempt: a) == .releaseUnused)
    }

    @Test func aTimeoutBeforeTheHeadIsAnsweredAndNeverRetried() {
        var exchange = Self.machine(retries: 5, requestEnded: true)
        let attempt = exchange.beginAttempt()
        _ = exchange.connected(attempt: attempt)
        #expect(exchange.deadlinePassed(timeoutMilliseconds: 200) == .respond(.timedOut(afterMilliseconds: 200)))
        #expect(exchange.responseHead(attempt: attempt, status: 200, validatorsSent: false) == .ignore)
        #expect(exchange.upstreamFailed(attempt: attempt, .connectionClosed) == .ignore)
        // A timeout reported as an attempt's failure is not retried either.
        var other = Self.machine(retries: 5, requestEnded: true)
        let a = other.beginAttempt()
        #expect(other.upstreamFailed(attempt: a, .timedOut(afterMilliseconds: 9)) == .respond(.timedOut(afterMilliseconds: 9)))
    }

    @Test func theDeadlineDuringABackoffEndsTheExchange() {
        var exchange = Self.machine(retries: 2, requestEnded: true)
        let first = exchange.beginAttempt()
        _ = exchange.upstreamFailed(attempt: first, .connectionClosed)
        #expect(exchange.deadlinePassed(timeoutMilliseconds: 100) == .respond(.timedOut(afterMilliseconds: 100)))
        #expect(!exchange.backoffElapsed(after: first))
    }

    @Test func theDeadlineIsIgnoredOnceTheResponseIsFlowing() {
        var exchange = Self.machine(requestEnded: true)
        let attempt = exchange.beginAttempt()
        _ = exchange.connected(attempt: attempt)
        _ = exchange.responseHead(attempt: attempt, status: 200, validatorsSent: false)
        #expect(exchange.deadlinePassed(timeoutMilliseconds: 100) == .ignore)
        #expect(exchange.relays(attempt: attempt))
    }

    @Test func aFailureWhileRelayingCutsTheResponseShort() {
        var exchange = Self.machine(retries: 3, requestEnded: true)
        let attempt = exchange.beginAttempt()
        _ = exchange.connected(attempt: attempt)
        _ = exchange.responseHead(attempt: attempt, status: 200, validatorsSent: false)
        #expect(exchange.upstreamFailed(attempt: attempt, .connectionClosed) == .cutShort)
        #expect(!exchange.relays(attempt: attempt))
        #expect(exchange.responseEnd(attempt: attempt) == .ignore)
    }

    @Test func a304ToTheCachesValidatorsServesTheStoredResponse() {
        var exchange = Self.machine(requestEnded: true)
        let attempt = exchange.beginAttempt()
        _ = exchange.connected(attempt: attempt)
        #expect(exchange.responseHead(attempt: attempt, status: 304, validatorsSent: true) == .serveStored)
        #expect(exchange.responseEnd(attempt: attempt) == .complete(reusable: true, closeClient: false))
        // Without validators of the gateway's, a 304 is the client's own and relayed.
        var relayed = Self.machine(requestEnded: true)
        let a = relayed.beginAttempt()
        _ = relayed.connected(attempt: a)
        #expect(relayed.responseHead(attempt: a, status: 304, validatorsSent: false) == .relay)
    }

    @Test func theBodyLimitRejectsBeforeTheResponseAndCutsAfterIt() {
        var before = Self.machine(maxBody: 100)
        let a = before.beginAttempt()
        _ = before.connected(attempt: a)
        #expect(before.requestBody(bytes: 80, replayLimit: 1_000) == .write)
        #expect(before.requestBody(bytes: 80, replayLimit: 1_000) == .rejectTooLarge)
        #expect(!Bool(before.gatewayAnswered()))

        var after = Self.machine(maxBody: 100)
        let b = after.beginAttempt()
        _ = after.connected(attempt: b)
        _ = after.responseHead(attempt: b, status: 200, validatorsSent: false)
        #expect(after.requestBody(bytes: 101, replayLimit: 1_000) == .cutShort)
        #expect(after.isFinished)
    }

    @Test func anErrorAnswerKeepsTheClientOnlyWhenItsRequestWasReadWhole() {
        var whole = Self.machine(requestEnded: true)
        #expect(Bool(whole.gatewayAnswered()))
        var partial = Self.machine()
        _ = partial.beginAttempt()
        #expect(!Bool(partial.gatewayAnswered()))
        #expect(partial.requestBody(bytes: 1, replayLimit: 10) == .discard)
    }
}
