/// When the outbound proxy tries a provider again, and after how long.
///
/// Only what is safe to repeat is repeated: idempotent methods, or any method the client marked
/// with an `Idempotency-Key` (the provider deduplicates). Only answers that say "not now" are
/// retried — no connection, 429, 502, 503, 504 — with exponential backoff and full jitter (a
/// uniformly random wait up to the exponential bound, so clients refused together do not come
/// back together). A provider's `Retry-After` is a floor; one longer than the cap is not waited
/// for: the refusal is relayed so the client can decide.
public struct IntegrationRetryPolicy: Sendable, Equatable {
    /// Retries after the first attempt.
    public var retries: Int
    public var baseSeconds: Double
    public var maxBackoffSeconds: Double
    public var maxRetryAfterSeconds: Double

    public init(retries: Int = 3, baseSeconds: Double = 0.1, maxBackoffSeconds: Double = 2, maxRetryAfterSeconds: Double = 30) {
        self.retries = retries
        self.baseSeconds = baseSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
        self.maxRetryAfterSeconds = maxRetryAfterSeconds
    }

    /// What an attempt ended with.
    public enum Outcome: Sendable, Equatable {
        /// The provider answered with this status (and `Retry-After` seconds, if it sent one).
        case answered(status: Int, retryAfter: Double?)
        /// No connection could be made, so nothing reached the provider.
        case notConnected
        /// The exchange broke after the request was sent (the provider may have acted on it).
        case broken
    }

    public static func isRepeatable(_ method: HttpMethod, idempotencyKey: Bool) -> Bool {
        idempotencyKey || [.get, .head, .options, .put, .delete].contains(method)
    }

    /// The wait before retry number `retry` (1 for the first retry), or nil when the outcome is
    /// final. `random` is uniform in [0, 1).
    public func delay(after outcome: Outcome, retry: Int, repeatable: Bool, random: Double) -> Double? {
        guard retry <= retries else { return nil }
        let retryAfter: Double?
        switch outcome {
        case .notConnected:
            // Nothing was sent: safe even for a POST without a key.
            retryAfter = nil
        case .broken:
            guard repeatable else { return nil }
            retryAfter = nil
        case .answered(let status, let after):
            guard repeatable, [429, 502, 503, 504].contains(status) else { return nil }
            retryAfter = after
        }
        if let retryAfter, retryAfter > maxRetryAfterSeconds { return nil }
        let exponent = Double(1 << min(retry - 1, 30))
        let jittered = random * min(maxBackoffSeconds, baseSeconds * exponent)
        return max(jittered, retryAfter ?? 0)
    }

    /// `Retry-After` as seconds: delay-seconds only (an HTTP date is read as absent).
    public static func retryAfterSeconds(_ field: String?) -> Double? {
        guard let field, let seconds = Int(field.trimmingCharacters(in: " \t")), seconds >= 0 else { return nil }
        return Double(seconds)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        let characters = Set(set)
        var slice = Substring(self)
        while let first = slice.first, characters.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, characters.contains(last) { slice = slice.dropLast() }
        return slice
    }
}
