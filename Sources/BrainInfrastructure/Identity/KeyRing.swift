import Atomics

/// The verification keys currently trusted, read by every request with one atomic load and
/// replaced whole when a key source (JWKS) refreshes — the registry's publication pattern.
public final class KeyRing: Sendable {
    private final class Published: AtomicReference, Sendable {
        let keys: [TokenVerifier.Key]
        init(_ keys: [TokenVerifier.Key]) { self.keys = keys }
    }

    private let current: ManagedAtomic<Published>
    /// Keys that never change (the `JWT_SECRET` key), kept in every published set.
    private let fixed: [TokenVerifier.Key]

    public init(fixed: [TokenVerifier.Key] = []) {
        self.fixed = fixed
        self.current = ManagedAtomic(Published(fixed))
    }

    public var keys: [TokenVerifier.Key] { current.load(ordering: .acquiring).keys }

    /// Publishes a fetched key set (plus the fixed keys).
    public func replaceFetched(with fetched: [TokenVerifier.Key]) {
        current.store(Published(fixed + fetched), ordering: .releasing)
    }
}
