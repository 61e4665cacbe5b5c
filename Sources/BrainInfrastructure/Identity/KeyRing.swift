import Atomics

/// The verification keys currently trusted, read by every request with one atomic load and
/// replaced whole when a key source (JWKS) refreshes — the registry's publication pattern.
public final class KeyRing: Sendable {
    private final class Published: AtomicReference, Sendable {
        let keys: [TokenVerifier.Key]
        let generation: Int
        init(_ keys: [TokenVerifier.Key], generation: Int) {
            self.keys = keys
            self.generation = generation
        }
    }

    private let current: ManagedAtomic<Published>
    /// Keys that never change (the `JWT_SECRET` key), kept in every published set.
    private let fixed: [TokenVerifier.Key]

    public init(fixed: [TokenVerifier.Key] = []) {
        self.fixed = fixed
        self.current = ManagedAtomic(Published(fixed, generation: 0))
    }

    public var keys: [TokenVerifier.Key] { current.load(ordering: .acquiring).keys }

    /// Changes whenever the key set does: anything remembered as verified under an older
    /// generation must be verified again.
    public var generation: Int { current.load(ordering: .acquiring).generation }

    /// Publishes a fetched key set (plus the fixed keys).
    public func replaceFetched(with fetched: [TokenVerifier.Key]) {
        let next = current.load(ordering: .acquiring).generation + 1
        current.store(Published(fixed + fetched, generation: next), ordering: .releasing)
    }
}
