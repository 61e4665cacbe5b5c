import BrainDomain
import BrainRESP
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The response cache's second level, in Redis: what one replica stored, the others serve.
///
/// A lookup that misses the in-process cache asks Redis (one `GET`); a found entry is stored
/// in-process too. A fill is written to Redis as it is stored in-process (`SET … PX`), with
/// the same rules (tenant-keyed, bodies up to the service's `cache.max_body_bytes`). An unsafe
/// method's invalidation deletes the shared entries and is published to every replica, which
/// drops its in-process copies. Ages survive the trip: entries carry wall-clock time, turned
/// back into each process's monotonic clock on arrival.
public final class SharedResponseCache: Service, Sendable {
    private let client: RedisClient
    private var configuration: RedisConfiguration { client.configuration }
    private let local: ResponseCache
    private let group: any EventLoopGroup
    private let logger: Logger
    /// Entries stay in Redis this long past their freshness, so replicas can still revalidate them.
    static let revalidationGraceSeconds = 300.0
    static let channel = "brain:cache:invalidate"
    /// Targets whose last response could not be stored, and until when (monotonic seconds):
    /// their misses do not ask Redis (an API answering `no-store` would otherwise cost a round
    /// trip per request for nothing). Bounded; forgotten whole when full.
    private let uncacheable = Mutex<[ResponseCache.Key: Double]>([:])
    static let uncacheableSeconds = 10.0
    static let uncacheableCapacity = 10_000

    public init(client: RedisClient, local: ResponseCache, group: any EventLoopGroup, logger: Logger) {
        self.client = client
        self.local = local
        self.group = group
        self.logger = logger
    }

    /// The upstream's answer for `key` could not be stored: skip Redis for it a while.
    public func rememberUncacheable(_ key: ResponseCache.Key, now: Double) {
        uncacheable.withLock { entries in
            if entries.count >= Self.uncacheableCapacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = now + Self.uncacheableSeconds
        }
    }

    /// Whether a miss for `key` is worth a Redis round trip.
    public func worthAsking(_ key: ResponseCache.Key, now: Double) -> Bool {
        uncacheable.withLock { entries in
            guard let until = entries[key] else { return true }
            if until > now { return false }
            entries[key] = nil
            return true
        }
    }

    static func redisKey(_ key: ResponseCache.Key) -> String {
        "brain:cache:{\(key.tenant?.value ?? "-"):\(key.service.value)}:\(key.method) \(key.target)"
    }

    /// The shared entry for `key`, if it is there and was stored for a request like this one
    /// (its `Vary` values). `monotonicNow` and `wallNow` place its age on this process's clock.
    public func fetch(
        _ key: ResponseCache.Key, request: some RequestFieldValues, monotonicNow: Double, wallNow: Double, on eventLoop: any EventLoop
    ) -> EventLoopFuture<ResponseCache.StoredResponse?> {
        client.send(RESPCommand("GET", Self.redisKey(key)), on: eventLoop).map { reply in
            guard case .bulkString(var bytes) = reply,
                let stored = StoredResponseCoding.decode(&bytes, monotonicNow: monotonicNow, wallNow: wallNow)
            else { return nil }
            for (index, name) in stored.varyNames.enumerated() where ResponseCache.StoredResponse.joined(request, name) != stored.varyValues[index] { return nil }
            return stored
        }.recover { _ in nil }
    }

    /// Writes a stored response for the other replicas (fire and forget: a failure only
    /// costs them a miss).
    public func store(_ key: ResponseCache.Key, _ stored: ResponseCache.StoredResponse, monotonicNow: Double, wallNow: Double) {
        var bytes = ByteBuffer()
        StoredResponseCoding.encode(stored, monotonicNow: monotonicNow, wallNow: wallNow, into: &bytes)
        let milliseconds = Int64(min(86_400, max(1, stored.lifetime) + Self.revalidationGraceSeconds) * 1000)
        _ = client.send(RESPCommand("SET", [.text(Self.redisKey(key)), .bytes(bytes), .text("PX"), .integer(milliseconds)]), on: group.next())
    }

    /// Deletes the shared entries of a changed resource and tells every replica to drop its copies.
    public func invalidate(_ keys: [ResponseCache.Key]) {
        guard let first = keys.first else { return }
        let loop = group.next()
        _ = client.send(RESPCommand("DEL", keys.map { .text(Self.redisKey($0)) }), on: loop)
        let message = [first.tenant?.value ?? "-", first.service.value, first.target].joined(separator: "\n")
        _ = client.send(RESPCommand("PUBLISH", Self.channel, message), on: loop)
    }

    /// Listens for the other replicas' invalidations (a connection of its own, in
    /// subscribe mode), reconnecting after a second when it is lost.
    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.listen() }
    }

    private func listen() async {
        while !Task.isCancelled {
            do {
                try await subscribeOnce()
            } catch {
                logger.debug("cache invalidation subscription lost; resubscribing", metadata: ["reason": .string("\(error)")])
            }
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
        }
    }

    private func subscribeOnce() async throws {
        let tlsContext = client.tlsContext
        let hostname = configuration.host
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(2))
            .connect(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tlsContext, serverHostname: hostname.first?.isNumber == true ? nil : hostname))
                    }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var buffer = ByteBuffer()
            for command in configuration.greeting { command.write(into: &buffer) }
            RESPCommand("SUBSCRIBE", Self.channel).write(into: &buffer)
            try await outbound.write(buffer)
            var decoder = RESPDecoder()
            for try await bytes in inbound {
                decoder.read(bytes)
                while let reply = try decoder.next() {
                    if case .error(let text) = reply { throw RedisCallFailure.handshakeRefused(text) }
                    guard let parts = reply.array, parts.count == 3, parts[0].string == "message", let message = parts[2].string else { continue }
                    dropLocalCopies(message)
                }
            }
        }
    }

    private func dropLocalCopies(_ message: String) {
        let parts = message.split(separator: "\n", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let service = try? ServiceName(parts[1]) else { return }
        let tenant = parts[0] == "-" ? nil : try? TenantID(parts[0])
        if parts[0] != "-", tenant == nil { return }
        for method in ["GET", "HEAD"] { local.invalidate(.init(tenant: tenant, service: service, method: method, target: parts[2])) }
    }
}

/// A stored response as bytes in Redis: version, status, wall-clock time of storing,
/// lifetime, `Vary` names and values, headers, body.
enum StoredResponseCoding {
    static let version: UInt8 = 1

    static func encode(_ stored: ResponseCache.StoredResponse, monotonicNow: Double, wallNow: Double, into bytes: inout ByteBuffer) {
        bytes.writeInteger(version)
        bytes.writeInteger(UInt16(stored.status.code))
        bytes.writeInteger((wallNow - (monotonicNow - stored.storedAt)).bitPattern)
        bytes.writeInteger(stored.lifetime.bitPattern)
        bytes.writeInteger(UInt16(stored.varyNames.count))
        for (index, name) in stored.varyNames.enumerated() {
            writeString(name, into: &bytes)
            if let value = stored.varyValues[index] {
                bytes.writeInteger(UInt8(1))
                writeString(value, into: &bytes)
            } else {
                bytes.writeInteger(UInt8(0))
            }
        }
        bytes.writeInteger(UInt16(stored.headers.count))
        for (name, value) in stored.headers {
            writeString(name, into: &bytes)
            writeString(value, into: &bytes)
        }
        var body = stored.body
        bytes.writeBuffer(&body)
    }

    static func decode(_ bytes: inout ByteBuffer, monotonicNow: Double, wallNow: Double) -> ResponseCache.StoredResponse? {
        guard bytes.readInteger(as: UInt8.self) == version,
            let status = bytes.readInteger(as: UInt16.self),
            let storedWall = bytes.readInteger(as: UInt64.self).map(Double.init(bitPattern:)),
            let lifetime = bytes.readInteger(as: UInt64.self).map(Double.init(bitPattern:)),
            let varyCount = bytes.readInteger(as: UInt16.self)
        else { return nil }
        var varyNames: [String] = []
        var varyValues: [String?] = []
        for _ in 0..<varyCount {
            guard let name = readString(&bytes), let present = bytes.readInteger(as: UInt8.self) else { return nil }
            varyNames.append(name)
            if present == 1 {
                guard let value = readString(&bytes) else { return nil }
                varyValues.append(value)
            } else {
                varyValues.append(nil)
            }
        }
        guard let headerCount = bytes.readInteger(as: UInt16.self) else { return nil }
        var headers = HTTPHeaders()
        for _ in 0..<headerCount {
            guard let name = readString(&bytes), let value = readString(&bytes) else { return nil }
            headers.add(name: name, value: value)
        }
        let body = bytes.readSlice(length: bytes.readableBytes) ?? ByteBuffer()
        let age = max(0, wallNow - storedWall)
        return ResponseCache.StoredResponse(
            status: HTTPResponseStatus(statusCode: Int(status)), headers: headers, body: body, storedAt: monotonicNow - age,
            lifetime: lifetime.isFinite ? lifetime : 0, varyNames: varyNames, varyValues: varyValues)
    }

    private static func writeString(_ text: String, into bytes: inout ByteBuffer) {
        bytes.writeInteger(UInt32(text.utf8.count))
        bytes.writeString(text)
    }

    private static func readString(_ bytes: inout ByteBuffer) -> String? {
        guard let length = bytes.readInteger(as: UInt32.self), length <= bytes.readableBytes else { return nil }
        return bytes.readString(length: Int(length))
    }
}
