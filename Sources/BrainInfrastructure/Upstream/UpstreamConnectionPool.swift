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
    public func acquire(_ instance: UpstreamInstance) -> Lease {
        eventLoop.assertInEventLoop()
        while var list = idle[instance], let connection = list.popLast() {
            idle[instance] = list
            connection.onClose = nil
            if !connection.isClosed { return .ready(connection) }
        }
        return .connecting(connector.connect(to: instance, on: eventLoop))
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
        var list = idle[connection.instance] ?? []
        guard list.count < maxIdlePerInstance else {
            connection.close()
            return
        }
        connection.onClose = { [weak self] closed in self?.forget(closed) }
        list.append(connection)
        idle[connection.instance] = list
    }

    private func forget(_ connection: UpstreamConnection) {
        guard var list = idle[connection.instance] else { return }
        list.removeAll { $0 === connection }
        idle[connection.instance] = list
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
