import BrainInfrastructure
import BrainDomain
import NIOCore
import NIOHTTP1

/// Retry stage rules: GET, HEAD, OPTIONS, PUT, DELETE and any request with
/// `Idempotency-Key` are retried — once by default (`retry.retries`), on another instance where
/// there is one — when the failure came before any response byte and the body sent so far can
/// be replayed. POST and PATCH without a key never are. A timeout is not retried: it already
/// cost the whole time budget. Each retry waits a full-jitter backoff and must fit the service's
/// retry budget (`RetryBudget`), so retries cannot multiply the load on a failing service.
public struct RetryPolicy: Sendable {
    /// Request bodies up to this size are kept so a retry can resend them.
    public let replayableBodyBytes: Int

    public init(replayableBodyBytes: Int = 64 * 1024) {
        self.replayableBodyBytes = replayableBodyBytes
    }

    /// Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): uniformly random in
    /// [0, min(cap, base × 2^(retry − 1))], so retries from many clients do not arrive in step.
    public func backoff<R: RandomNumberGenerator>(retry: Int, settings: RetrySettings, using random: inout R) -> TimeAmount {
        let exponent = min(20, max(0, retry - 1))
        let ceiling = min(settings.backoffCapMilliseconds, settings.backoffBaseMilliseconds << exponent)
        guard ceiling > 0 else { return .zero }
        return .microseconds(Int64(random.next(upperBound: UInt64(ceiling) * 1000)))
    }

    public func isRetryable(method: HTTPMethod, headers: some HeaderFieldReading) -> Bool {
        HttpMethod(method.rawValue).isRetryable || headers.contains(name: "idempotency-key")
    }

    public func shouldRetry(
        failure: UpstreamFailureKind, attempt: Int, maxRetries: Int, retryableRequest: Bool, responseStarted: Bool, bodyReplayable: Bool
    ) -> Bool {
        guard retryableRequest, !responseStarted, bodyReplayable, attempt <= maxRetries else { return false }
        return failure != .timedOut
    }
}

/// The failure classes retry and error mapping care about.
public enum UpstreamFailureKind: Sendable, Equatable {
    case connectFailed, connectionClosed, invalidResponse, timedOut
}
