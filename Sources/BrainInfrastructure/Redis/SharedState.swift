import Atomics
import BrainApplication
import BrainDomain
import BrainRESP
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// The state replicas share through Redis (`REDIS_URL`), and what a replica does without it.
///
/// Up: rate limits are decided in Redis (`RedisRateLimiter`). A call that fails or misses
/// `REDIS_TIMEOUT_MS` turns this replica *degraded* at once: from then on its rate-limit stage
/// does not ask Redis at all (no request waits on a dead server) and applies
/// `REDIS_FAILURE_MODE` — `local` (each replica enforces limit ÷ live replicas, rounded up),
/// `open` or `closed`. A heartbeat every second both tells the other replicas this one is
/// live (a sorted set scored by Redis's clock) and probes Redis: its first answer turns the
/// replica *up* again. Transitions are logged and published as events
/// (`SharedStateDegraded`, `SharedStateRestored`).
public final class SharedState: Service, Sendable {
    public let client: RedisClient
    public let rateLimiter: RedisRateLimiter
    public let failureMode: SharedStateFailureMode
    /// A random id, unique per process: the replica's entry in the heartbeat set.
    public let replicaID: String
    private let status: Status
    private let heartbeatInterval: Duration
    private let logger: Logger

    /// Lock-free flags read on every rate-limited request.
    final class Status: Sendable {
        let up = ManagedAtomic<Bool>(true)
        let liveReplicas: ManagedAtomic<Int>
        let answered = ManagedAtomic<Int>(0)
        let failed = ManagedAtomic<Int>(0)
        let transitions: @Sendable (_ up: Bool, _ reason: String) -> Void

        init(replicas: Int, transitions: @escaping @Sendable (Bool, String) -> Void) {
            self.liveReplicas = ManagedAtomic(max(1, replicas))
            self.transitions = transitions
        }

        func callFinished(answered ok: Bool) {
            if ok {
                answered.wrappingIncrement(ordering: .relaxed)
            } else {
                failed.wrappingIncrement(ordering: .relaxed)
                degrade("a call failed or timed out")
            }
        }

        func degrade(_ reason: String) {
            if up.compareExchange(expected: true, desired: false, ordering: .relaxed).exchanged { transitions(false, reason) }
        }

        func restore() {
            if up.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged { transitions(true, "") }
        }
    }

    static let heartbeatScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('ZADD', KEYS[1], now, ARGV[1])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
        redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
        return redis.call('ZCARD', KEYS[1])
        """
    static let replicasKey = "brain:replicas"
    /// A replica missing this long from the heartbeat set is not counted live.
    static let liveWindowMilliseconds = 5_000

    /// - Parameters:
    ///   - replicas: assumed until the first heartbeat counts them (`BRAIN_GATEWAY_REPLICAS`).
    ///   - events: where `SharedStateDegraded` and `SharedStateRestored` go.
    public init(
        configuration: RedisConfiguration, group: any EventLoopGroup, failureMode: SharedStateFailureMode, replicas: Int,
        events: (any DomainEventSink)?, heartbeatInterval: Duration = .seconds(1), logger: Logger
    ) throws {
        let replicaID = UUID().uuidString.lowercased()
        let mode = failureMode
        let target = configuration.redactedDescription
        let status = Status(replicas: replicas) { up, reason in
            if up {
                logger.notice("shared state restored: rate limits are decided in Redis again", metadata: ["redis": .string(target)])
                events?.publish([.sharedStateRestored(replica: replicaID)], at: Date().timeIntervalSince1970)
            } else {
                logger.warning("shared state degraded: rate limits are decided by this replica", metadata: [
                    "redis": .string(target), "reason": .string(reason), "mode": .string(mode.rawValue),
                ])
                events?.publish([.sharedStateDegraded(replica: replicaID, mode: mode.rawValue, reason: reason)], at: Date().timeIntervalSince1970)
            }
        }
        let client = try RedisClient(configuration: configuration, group: group) { status.callFinished(answered: $0) }
        self.client = client
        self.rateLimiter = RedisRateLimiter(client: client, group: group)
        self.failureMode = failureMode
        self.replicaID = replicaID
        self.status = status
        self.heartbeatInterval = heartbeatInterval
        self.logger = logger
    }

    /// Whether rate limits are decided in Redis now.
    public var isUp: Bool { status.up.load(ordering: .relaxed) }
    /// Live replicas by the last heartbeat (at least 1).
    public var liveReplicas: Int { status.liveReplicas.load(ordering: .relaxed) }
    /// Redis calls answered in time, and failed or timed out, since start.
    public var calls: (answered: Int, failed: Int) { (status.answered.load(ordering: .relaxed), status.failed.load(ordering: .relaxed)) }

    /// A rate-limit call that did not come back (its failure is already counted).
    public func rateLimitCallFailed() { status.degrade("a rate-limit decision did not come back in time") }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.beat() }
        // Leave the live set at once, so the others' shares grow without waiting out the window.
        _ = try? await client.send(RESPCommand("ZREM", Self.replicasKey, replicaID))
        client.shutDown()
    }

    private func beat() async {
        while !Task.isCancelled {
            await heartbeat()
            do { try await Task.sleep(for: heartbeatInterval) } catch { return }
        }
    }

    /// One heartbeat: counts the live replicas; its answer also ends a degraded spell.
    public func heartbeat() async {
        let command = RESPCommand("EVAL", [
            .text(Self.heartbeatScript), .integer(1), .text(Self.replicasKey), .text(replicaID), .integer(Int64(Self.liveWindowMilliseconds)),
        ])
        do {
            let reply = try await client.send(command)
            guard let count = reply.integer else {
                logger.warning("unexpected heartbeat reply from Redis", metadata: ["reply": .string(reply.errorCode.map(String.init) ?? "?")])
                status.degrade("unexpected heartbeat reply")
                return
            }
            status.liveReplicas.store(max(1, Int(count)), ordering: .relaxed)
            status.restore()
        } catch {
            status.degrade("heartbeat: \(error)")
        }
    }
}
