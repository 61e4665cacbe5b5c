import BrainDomain
import Synchronization

/// Rate-limit counters in this process's memory, shared by every event loop.
///
/// Keys are spread over 64 shards, each behind its own lock held for a dictionary access and a
/// few arithmetic operations, so two loops rarely meet on one lock. Memory stays bounded: a key
/// not seen for two windows holds nothing a fresh counter would not (both its windows have
/// rolled out), so such keys are dropped: by a shard itself when it is used and its last sweep
/// is `sweepSeconds` old, and by `sweepIdle` (run periodically by the gateway) for shards
/// traffic no longer reaches. With a million tenants, only those active in the last two windows
/// occupy memory (≈ 100 bytes each).
public final class InProcessRateLimitStore: RateLimitStore {
    private final class Shard: Sendable {
        struct Slot {
            var limiter: SlidingWindowRateLimit
            var policy: RateLimitPolicy
            var lastSeen: Double
        }

        struct Counters {
            var slots: [RateLimitKey: Slot] = [:]
            var lastSweep = 0.0
        }

        let counters = Mutex(Counters())
    }

    private let shards: [Shard]
    private let sweepSeconds: Double

    public init(shardCount: Int = 64, sweepSeconds: Double = 10) {
        self.shards = (0..<max(1, shardCount)).map { _ in Shard() }
        self.sweepSeconds = sweepSeconds
    }

    public func attempt(_ key: RateLimitKey, policy: RateLimitPolicy, now: Double) -> SlidingWindowRateLimit.Decision {
        let shard = shards[Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))]
        let sweepSeconds = self.sweepSeconds
        return shard.counters.withLock { counters in
            if now - counters.lastSweep >= sweepSeconds { Self.sweep(&counters, now: now) }
            var slot = counters.slots[key] ?? Shard.Slot(limiter: SlidingWindowRateLimit(policy), policy: policy, lastSeen: now)
            if slot.policy != policy {
                // The policy was changed: start counting under the new one.
                slot = Shard.Slot(limiter: SlidingWindowRateLimit(policy), policy: policy, lastSeen: now)
            }
            let decision = slot.limiter.attempt(now: now)
            slot.lastSeen = now
            counters.slots[key] = slot
            return decision
        }
    }

    /// Drops idle keys from every shard whose last sweep is `sweepSeconds` old.
    public func sweepIdle(now: Double) {
        for shard in shards {
            shard.counters.withLock { counters in
                if now - counters.lastSweep >= sweepSeconds { Self.sweep(&counters, now: now) }
            }
        }
    }

    private static func sweep(_ counters: inout Shard.Counters, now: Double) {
        counters.lastSweep = now
        counters.slots = counters.slots.filter { now - $0.value.lastSeen < 2 * Double($0.value.policy.windowSeconds) }
    }

    /// Keys currently held (for tests and status pages).
    public var keyCount: Int { shards.reduce(0) { $0 + $1.counters.withLock { $0.slots.count } } }
}
