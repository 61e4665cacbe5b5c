import BrainRESP
import NIOCore
import NIOSSL

/// Redis for the gateway's shared state: one pipelined connection per event loop of the
/// server's group (a call from the data plane never leaves its loop), opened on first use.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let connections: [ObjectIdentifier: RedisConnection]
    private let anyLoop: any EventLoop
    /// For `rediss://`: the system's trust roots plus `configuration.caFile`.
    let tlsContext: NIOSSLContext?

    /// - Parameter observer: told after every call whether Redis answered it in time.
    public init(configuration: RedisConfiguration, group: any EventLoopGroup, observer: @escaping @Sendable (_ answered: Bool) -> Void = { _ in }) throws {
        self.configuration = configuration
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = configuration.caFile { tls.additionalTrustRoots = [.file(caFile)] }
        let tlsContext = configuration.tls ? try NIOSSLContext(configuration: tls) : nil
        self.tlsContext = tlsContext
        var connections: [ObjectIdentifier: RedisConnection] = [:]
        for loop in group.makeIterator() {
            connections[ObjectIdentifier(loop)] = RedisConnection(eventLoop: loop, configuration: configuration, tlsContext: tlsContext, observer: observer)
        }
        self.connections = connections
        self.anyLoop = group.next()
    }

    /// Sends `command` on `eventLoop`'s connection (the caller's loop: no hop). A reply that is
    /// an error (`-ERR …`) is a successful call whose value is `.error`.
    public func send(_ command: RESPCommand, on eventLoop: any EventLoop) -> EventLoopFuture<RESPValue> {
        guard let connection = connections[ObjectIdentifier(eventLoop)] ?? connections[ObjectIdentifier(anyLoop)] else {
            return eventLoop.makeFailedFuture(RedisCallFailure.shutDown)
        }
        if connection.eventLoop.inEventLoop { return connection.send(command) }
        return connection.eventLoop.flatSubmit { connection.send(command) }.hop(to: eventLoop)
    }

    /// For the control plane (heartbeats, probes, tests).
    public func send(_ command: RESPCommand) async throws -> RESPValue {
        try await send(command, on: anyLoop).get()
    }

    public func shutDown() {
        for connection in connections.values {
            connection.eventLoop.execute { connection.shutDown() }
        }
    }
}
