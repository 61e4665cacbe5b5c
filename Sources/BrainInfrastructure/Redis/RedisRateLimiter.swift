import BrainDomain
import BrainRESP
import Crypto
import NIOCore

/// Rate-limit decisions made in Redis, so that N replicas together admit what one would.
///
/// The algorithm is the in-process limiter's (`SlidingWindowRateLimit`: two fixed windows, the
/// previous one weighted by its overlap), run in one Lua script with Redis's own clock
/// (`TIME`), so replicas with skewed clocks agree. A key holds one hash per (tenant,
/// service), hash-tagged (`brain:rl:{tenant:service}`) so a Redis Cluster keeps it in one slot.
///
/// Decisions asked for on one event loop within one tick are sent together: one `EVALSHA`
/// per key deciding all of that key's waiting requests, all keys written in one flush — one
/// round trip however many requests a read burst carried. The first call after Redis lost
/// its script cache gets `NOSCRIPT` and is resent as `EVAL` (which caches it again).
public final class RedisRateLimiter: Sendable {
    private let client: RedisClient
    private let batches: [ObjectIdentifier: Batch]

    static let script = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
        local limit = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        local count = tonumber(ARGV[3])
        local w = math.floor(now / window)
        local state = redis.call('HMGET', KEYS[1], 'w', 'c', 'p')
        local sw = tonumber(state[1])
        local cur = tonumber(state[2]) or 0
        local prev = tonumber(state[3]) or 0
        if sw == nil then
          sw = w; cur = 0; prev = 0
        elseif w - sw >= 2 then
          sw = w; cur = 0; prev = 0
        elseif w - sw == 1 then
          sw = w; prev = cur; cur = 0
        end
        local start = sw * window
        local elapsed = now - start
        local weight = math.max(0, 1 - elapsed / window)
        local reset = math.floor((start + window - now) * 1000)
        local results = {}
        for i = 1, count do
          local estimate = prev * weight + cur
          if estimate + 1 <= limit then
            cur = cur + 1
            results[i] = {1, math.floor(math.max(0, limit - estimate - 1)), reset, 0}
          else
            local retry
            if cur + 1 > limit then
              local needed = cur - (limit - 1)
              local decay = 0
              if cur > 0 then decay = window * math.min(1, needed / cur) end
              retry = (window - elapsed) + decay
            elseif prev > 0 then
              retry = window * (1 - (limit - 1 - cur) / prev) - elapsed
            else
              retry = window - elapsed
            end
            results[i] = {0, 0, reset, math.floor(math.max(0.001, retry) * 1000)}
          end
        end
        redis.call('HSET', KEYS[1], 'w', sw, 'c', cur, 'p', prev)
        redis.call('PEXPIRE', KEYS[1], window * 2000)
        return results
        """

    static let scriptDigest: String = Insecure.SHA1.hash(data: Array(script.utf8)).map { byte in
        let hex = String(byte, radix: 16)
        return byte < 16 ? "0" + hex : hex
    }.joined()

    public init(client: RedisClient, group: any EventLoopGroup) {
        self.client = client
        var batches: [ObjectIdentifier: Batch] = [:]
        for loop in group.makeIterator() { batches[ObjectIdentifier(loop)] = Batch(eventLoop: loop, client: client) }
        self.batches = batches
    }

    /// Counts one request for `key`; answered on `eventLoop`. Fails only when Redis did not
    /// answer in time or at all (the caller then decides locally).
    public func attempt(_ key: RateLimitKey, policy: RateLimitPolicy, on eventLoop: any EventLoop) -> EventLoopFuture<SlidingWindowRateLimit.Decision> {
        guard let batch = batches[ObjectIdentifier(eventLoop)], eventLoop.inEventLoop else {
            // Off the data plane's loops (tests, tools): a batch of one on the first loop.
            guard let first = batches.values.first else { return eventLoop.makeFailedFuture(RedisCallFailure.shutDown) }
            return first.eventLoop.flatSubmit { first.add(key, policy: policy) }.hop(to: eventLoop)
        }
        return batch.add(key, policy: policy)
    }

    static func redisKey(_ key: RateLimitKey) -> String {
        "brain:rl:{\(key.tenant?.value ?? "-"):\(key.service.value)}"
    }

    /// One event loop's decisions waiting for the end of the tick.
    final class Batch: @unchecked Sendable {
        let eventLoop: any EventLoop
        private let client: RedisClient
        private struct Waiting {
            var policy: RateLimitPolicy
            var promises: [EventLoopPromise<SlidingWindowRateLimit.Decision>]
        }
        private var waiting: [String: Waiting] = [:]
        private var order: [String] = []
        private var scheduled = false

        init(eventLoop: any EventLoop, client: RedisClient) {
            self.eventLoop = eventLoop
            self.client = client
        }

        func add(_ key: RateLimitKey, policy: RateLimitPolicy) -> EventLoopFuture<SlidingWindowRateLimit.Decision> {
            let promise = eventLoop.makePromise(of: SlidingWindowRateLimit.Decision.self)
            let name = RedisRateLimiter.redisKey(key)
            if waiting[name] == nil {
                waiting[name] = Waiting(policy: policy, promises: [promise])
                order.append(name)
            } else {
                waiting[name]?.promises.append(promise)
            }
            if !scheduled {
                scheduled = true
                eventLoop.assumeIsolated().execute { self.send() }
            }
            return promise.futureResult
        }

        private func send() {
            scheduled = false
            let names = order
            let batch = waiting
            order.removeAll(keepingCapacity: true)
            waiting.removeAll(keepingCapacity: true)
            for name in names {
                guard let entry = batch[name] else { continue }
                evaluate(name, entry.policy, entry.promises, loaded: true)
            }
        }

        private func evaluate(_ name: String, _ policy: RateLimitPolicy, _ promises: [EventLoopPromise<SlidingWindowRateLimit.Decision>], loaded: Bool) {
            let arguments: [RESPCommand.Argument] = [
                .text(loaded ? RedisRateLimiter.scriptDigest : RedisRateLimiter.script), .integer(1), .text(name),
                .integer(Int64(policy.requests)), .integer(Int64(policy.windowSeconds)), .integer(Int64(promises.count)),
            ]
            client.send(RESPCommand(loaded ? "EVALSHA" : "EVAL", arguments), on: eventLoop).assumeIsolated().whenComplete { result in
                switch result {
                case .success(let reply):
                    if loaded, reply.errorCode == "NOSCRIPT" {
                        self.evaluate(name, policy, promises, loaded: false)
                        return
                    }
                    guard let decisions = reply.array, decisions.count == promises.count else {
                        let failure = RedisCallFailure.unavailable("unexpected script reply: \(reply.string ?? reply.errorCode.map(String.init) ?? "?")")
                        for promise in promises { promise.fail(failure) }
                        return
                    }
                    for (promise, decision) in zip(promises, decisions) {
                        guard let fields = decision.array, fields.count == 4,
                            let allowed = fields[0].integer, let remaining = fields[1].integer, let reset = fields[2].integer, let retry = fields[3].integer
                        else {
                            promise.fail(RedisCallFailure.unavailable("unexpected script reply"))
                            continue
                        }
                        promise.succeed(.init(
                            allowed: allowed == 1, remaining: Int(remaining), resetSeconds: Double(max(0, reset)) / 1000,
                            retryAfterSeconds: Double(max(0, retry)) / 1000))
                    }
                case .failure(let error):
                    for promise in promises { promise.fail(error) }
                }
            }
        }
    }
}
