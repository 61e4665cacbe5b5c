import BrainApplication
import BrainDomain
import Synchronization

/// Drives one `TokenRefreshMachine` per (tenant, integration): a call asks for a ticket and is
/// told to use a token, to refresh (it alone), or waits for the refresh another call makes.
public final class OAuthTokens: Sendable {
    public struct Key: Hashable, Sendable {
        let tenant: TenantID
        let integration: String

        public init(tenant: TenantID, integration: String) {
            self.tenant = tenant
            self.integration = integration
        }
    }

    enum Ticket: Sendable, Equatable {
        case use(String)
        case refresh(generation: Int)
        case needsReauth
        /// The refresh this call waited for could not be made, or the credentials changed
        /// meanwhile.
        case failed
    }

    private struct State {
        var machines: [Key: TokenRefreshMachine<Int>] = [:]
        var waiters: [Int: CheckedContinuation<Ticket, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// - Parameters:
    ///   - seed: the stored token, used the first time the key is seen.
    ///   - rejected: the token the provider just answered 401 to.
    func ticket(_ key: Key, seed: (token: String?, expiresAt: Double?), now: Double, rejected: String? = nil) async -> Ticket {
        await withCheckedContinuation { continuation in
            state.withLock { state in
                state.nextWaiter += 1
                let waiter = state.nextWaiter
                var machine = state.machines[key] ?? TokenRefreshMachine(token: seed.token, expiresAt: seed.expiresAt)
                let decision = machine.tokenNeeded(by: waiter, now: now, rejected: rejected)
                state.machines[key] = machine
                switch decision {
                case .use(let token): continuation.resume(returning: .use(token))
                case .refresh(let generation): continuation.resume(returning: .refresh(generation: generation))
                case .needsReauth: continuation.resume(returning: .needsReauth)
                case .wait: state.waiters[waiter] = continuation
                }
            }
        }
    }

    func refreshed(_ key: Key, token: String, expiresAt: Double?, generation: Int) {
        resume(key, with: .use(token)) { $0.refreshed(token: token, expiresAt: expiresAt, generation: generation) }
    }

    func refused(_ key: Key, generation: Int) {
        resume(key, with: .needsReauth) { $0.refused(generation: generation) }
    }

    func failed(_ key: Key, generation: Int) {
        resume(key, with: .failed) { $0.failed(generation: generation) }
    }

    /// New credentials were stored or erased: what was derived from the old ones is forgotten.
    public func forget(_ key: Key) {
        resume(key, with: .failed) { machine in
            let waiting = machine.reset(token: nil, expiresAt: nil)
            return waiting
        }
        state.withLock { _ = $0.machines.removeValue(forKey: key) }
    }

    private func resume(_ key: Key, with ticket: Ticket, _ event: (inout TokenRefreshMachine<Int>) -> [Int]) {
        let continuations: [CheckedContinuation<Ticket, Never>] = state.withLock { state in
            guard var machine = state.machines[key] else { return [] }
            let waiters = event(&machine)
            state.machines[key] = machine
            return waiters.compactMap { state.waiters.removeValue(forKey: $0) }
        }
        for continuation in continuations { continuation.resume(returning: ticket) }
    }
}
