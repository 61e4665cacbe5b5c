/// OAuth 2 access tokens of one (tenant, integration), refreshed one at a time.
///
/// Many calls can find the token expired (or get a 401) at once; only the first starts a
/// refresh and the others wait for its result, so a provider that rotates refresh tokens never
/// sees two refreshes race (the loser's token would be revoked). A refused refresh (the
/// provider answered 400/401) puts the integration in `needs_reauth`: waiting calls and later
/// ones fail at once, without asking the provider again, until new credentials are stored.
///
/// A pure value: the driver (the proxy) holds it under a lock, performs the refresh it asks
/// for, and resumes the waiters it names. `Waiter` identifies a waiting call.
public struct TokenRefreshMachine<Waiter: Hashable & Sendable>: Sendable {
    public enum State: Sendable, Equatable {
        /// A token the calls may use until `expiresAt` (Unix seconds), or none known yet.
        case ready(token: String?, expiresAt: Double?)
        case refreshing
        case needsReauth
    }

    public enum Decision: Sendable, Equatable {
        /// Use this token now.
        case use(String)
        /// Start the refresh (this caller does it), then report `refreshed`, `refused` or
        /// `failed` with this generation.
        case refresh(generation: Int)
        /// Wait: a refresh is under way.
        case wait
        /// The credentials must be renewed by an administrator.
        case needsReauth
    }

    public private(set) var state: State
    private var waiting: [Waiter] = []
    /// Bumped by every refresh started and every reset: a refresh's result that arrives after
    /// new credentials were stored belongs to the old ones and is ignored.
    private var generation = 0
    /// Seconds before expiry at which a token counts as expired (a request in flight should
    /// not carry a token that lapses on the way).
    public let margin: Double

    public init(token: String?, expiresAt: Double?, margin: Double = 30) {
        state = .ready(token: token, expiresAt: expiresAt)
        self.margin = margin
    }

    /// A call needs a token at `now`. `rejected` is the token a provider just answered 401 to
    /// (it is refreshed even if it has not expired, unless another call already replaced it).
    public mutating func tokenNeeded(by waiter: Waiter, now: Double, rejected: String? = nil) -> Decision {
        switch state {
        case .needsReauth:
            return .needsReauth
        case .refreshing:
            waiting.append(waiter)
            return .wait
        case .ready(let token, let expiresAt):
            if let token, token != rejected, expiresAt.map({ now < $0 - margin }) ?? true {
                return .use(token)
            }
            state = .refreshing
            generation += 1
            return .refresh(generation: generation)
        }
    }

    /// The refresh succeeded: the waiters to resume with the new token.
    public mutating func refreshed(token: String, expiresAt: Double?, generation: Int) -> [Waiter] {
        guard generation == self.generation, state == .refreshing else { return [] }
        state = .ready(token: token, expiresAt: expiresAt)
        defer { waiting = [] }
        return waiting
    }

    /// The provider refused the refresh: the waiters to fail with `needs_reauth`.
    public mutating func refused(generation: Int) -> [Waiter] {
        guard generation == self.generation, state == .refreshing else { return [] }
        state = .needsReauth
        defer { waiting = [] }
        return waiting
    }

    /// The refresh could not be made (provider unreachable): nothing is learned about the
    /// credentials, so the next call tries again; the waiters fail this time.
    public mutating func failed(generation: Int) -> [Waiter] {
        guard generation == self.generation, state == .refreshing else { return [] }
        state = .ready(token: nil, expiresAt: nil)
        defer { waiting = [] }
        return waiting
    }

    /// New credentials were stored (activation): start over with their token, if any. The
    /// waiters returned should ask again (`tokenNeeded`).
    public mutating func reset(token: String?, expiresAt: Double?) -> [Waiter] {
        generation += 1
        state = .ready(token: token, expiresAt: expiresAt)
        defer { waiting = [] }
        return waiting
    }
}
