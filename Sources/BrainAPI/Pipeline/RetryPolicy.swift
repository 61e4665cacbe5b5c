import BrainDomain
import NIOHTTP1

/// Retry stage rules (design.md "Limits"): GET, HEAD, OPTIONS, PUT, DELETE and any request with
/// `Idempotency-Key` are retried once — on another instance where there is one — when the
/// failure came before any response byte and the body sent so far can be replayed. POST and
/// PATCH without a key never are. A timeout is not retried: it already cost the whole budget.
public struct RetryPolicy: Sendable {
    public let maxAttempts: Int
    /// Request bodies up to this size are kept so a retry can resend them.
    public let replayableBodyBytes: Int

    public init(maxAttempts: Int = 2, replayableBodyBytes: Int = 64 * 1024) {
        self.maxAttempts = maxAttempts
        self.replayableBodyBytes = replayableBodyBytes
    }

    public func isRetryable(method: HTTPMethod, headers: HTTPHeaders) -> Bool {
        HttpMethod(method.rawValue).isRetryable || headers.contains(name: "idempotency-key")
    }

    public func shouldRetry(
        failure: UpstreamFailureKind, attempt: Int, retryableRequest: Bool, responseStarted: Bool, bodyReplayable: Bool
    ) -> Bool {
        guard retryableRequest, !responseStarted, bodyReplayable, attempt < maxAttempts else { return false }
        return failure != .timedOut
    }
}

/// The failure classes retry and error mapping care about.
public enum UpstreamFailureKind: Sendable, Equatable {
    case connectFailed, connectionClosed, invalidResponse, timedOut
}
