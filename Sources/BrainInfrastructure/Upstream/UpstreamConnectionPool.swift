import BrainDomain
import NIOCore

/// Idle keep-alive connections to every instance, for one event loop.
///
/// A pool belongs to exactly one event loop and is only touched from it, like the client
/// connections it serves: taking or returning a connection is a dictionary access, no lock and
/// no thread hop. Idle connections are reused last-in first-out (the warmest socket first);
/// one that the server closes while idle drops out by itself.
public final class UpstreamConnectionPool: @unchecked Sendable {
    public let eventLoop: any EventLoop
    private let connector: UpstreamConnector
    private let maxIdlePerInstance: Int
    private var idle: [UpstreamInstance: [UpstreamConnection]] = [:]

    init(eventLoop: any EventLoop, connector: UpstreamConnector, maxIdlePerInstance: Int) {
        self.eventLoop = eventLoop
        self.connector = connector
        self.maxIdlePerInstance = maxIdlePerInstance
    }

    public enum Lease {
        case ready(UpstreamConnection)
        case connecting(EventLoopFuture<UpstreamConnection>)
    }

    /// A pooled connection to `instance` if one is open, otherwise a new one.
    ///
    /// The idle lists are changed in place in the dictionary: copying one out and back would
    /// copy the whole list (a retain per pooled connection) on every request.
    public func acquire(_ instance: UpstreamInstance) -> Lease {
        eventLoop.assertInEventLoop()
        while let connection = idle[instance]?.popLast() {
            if !connection.isClosed { return .ready(connection) }
        }
        return .connecting(connector.connect(to: instance, on: eventLoop).map { [weak self] connection in
            // Set once per connection: a connection the server closes while idle leaves the pool.
            connection.onClose = { closed in self?.forget(closed) }
            return connection
        })
    }

    /// A new connection for one protocol upgrade; it never returns to the pool.
    public func openForUpgrade(_ instance: UpstreamInstance) -> EventLoopFuture<UpgradeConnection> {
        connector.connectForUpgrade(to: instance, on: eventLoop)
    }

    /// Returns a connection after a complete exchange; closes it when it cannot be reused.
    public func release(_ connection: UpstreamConnection, reusable: Bool) {
        eventLoop.assertInEventLoop()
        connection.receiver = nil
        connection.resumeReading()
        guard reusable, connection.responseKeepAlive, !connection.isClosed else {
            connection.close()
            return
        }
        guard (idle[connection.instance]?.count ?? 0) < maxIdlePerInstance else {
            connection.close()
            return
        }
        idle[connection.instance, default: []].append(connection)
    }

    /// A connection closed; if it was idle here, it leaves the pool (a busy one is not listed).
    private func forget(_ connection: UpstreamConnection) {
        idle[connection.instance]?.removeAll { $0 === connection }
    }

    /// Closes every idle connection (shutdown).
    public func closeAll() {
        for (_, list) in idle { for c in list { c.onClose = nil; c.close() } }
        idle.removeAll()
    }

    public var idleCount: Int { idle.values.reduce(0) { $0 + $1.count } }
}

/// One `UpstreamConnectionPool` per event loop of the server's group, found by the loop a
/// client connection runs on. Built before serving and never changed, so lookups need no lock.
public final class UpstreamPools: Sendable {
    private let pools: [ObjectIdentifier: UpstreamConnectionPool]

    public init(group: any EventLoopGroup, connector: UpstreamConnector, maxIdlePerInstance: Int) {
        var pools: [ObjectIdentifier: UpstreamConnectionPool] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = UpstreamConnectionPool(eventLoop: loop, connector: connector, maxIdlePerInstance: maxIdlePerInstance)
        }
        self.pools = pools
    }

    /// The pool of `eventLoop`; nil only for a loop outside the server's group.
    public func pool(for eventLoop: any EventLoop) -> UpstreamConnectionPool? {
        pools[ObjectIdentifier(eventLoop)]
    }

    public func closeAll() {
        for pool in pools.values {
            pool.eventLoop.execute { pool.closeAll() }
        }
    }
}
