import BrainDomain
import BrainInfrastructure
import Logging

/// Proof-of-origin stage: the `X-Brain-Token` for this request. Like Google IAP's signed
/// header it vouches for the caller, not for one request, so a token is reused for the same
/// (service, tenant, subject, roles) until a minute before it expires: the hot path signs
/// (ECDSA, tens of microseconds) about once per caller and service every four minutes.
/// One cache per event-loop connection handler set, so no lock.
final class ProofOfOrigin {
    private struct Key: Hashable {
        let service: String
        let tenant: String?
        let subject: String?
        let roles: [String]
    }

    private let signer: ProofOfOriginSigner
    private var cache: [Key: (token: String, refreshAfter: Double)] = [:]
    private let capacity: Int
    private let logger: Logger

    init(signer: ProofOfOriginSigner, capacity: Int = 10_000, logger: Logger) {
        self.signer = signer
        self.capacity = capacity
        self.logger = logger
    }

    func token(service: String, principal: Principal?, tenant: TenantID?, now: Double) -> String? {
        let key = Key(service: service, tenant: tenant?.value, subject: principal?.subject, roles: principal?.roles ?? [])
        if let cached = cache[key], now < cached.refreshAfter { return cached.token }
        do {
            let (token, expiresAt) = try signer.sign(service: service, principal: principal, tenant: tenant, now: now)
            // Bounded memory: when full, start over (entries are cheap to re-sign).
            if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
            cache[key] = (token, expiresAt - 60)
            return token
        } catch {
            logger.error("could not sign X-Brain-Token", metadata: ["error": "\(error)"])
            return nil
        }
    }
}

/// One `ProofOfOrigin` cache per event loop of the server's group, found by a connection's
/// loop. Each is touched only from its own loop.
public final class ProofOfOriginCaches: @unchecked Sendable {
    public let signer: ProofOfOriginSigner
    private let caches: [ObjectIdentifier: ProofOfOrigin]

    public init(signer: ProofOfOriginSigner, loops: [any AnyObject], logger: Logger) {
        self.signer = signer
        var caches: [ObjectIdentifier: ProofOfOrigin] = [:]
        for loop in loops { caches[ObjectIdentifier(loop)] = ProofOfOrigin(signer: signer, logger: logger) }
        self.caches = caches
    }

    func cache(for loop: any AnyObject) -> ProofOfOrigin? { caches[ObjectIdentifier(loop)] }
}
