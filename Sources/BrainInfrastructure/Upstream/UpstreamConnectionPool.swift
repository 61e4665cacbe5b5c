import BrainDomain
import NIOCore

/// The upstream connections of one event loop: idle keep-alive ones to every instance, the
/// count of open ones against a cap, requesters waiting past it, and connect backoff.
///
/// A pool belongs to exactly one event loop and is only touched from it, like the client
/// connections it serves: taking or returning a connection is a dictionary access, no lock and
/// no thread hop. The decisions are `UpstreamPoolStateMachine`'s; this class opens, closes and
/// hands over the sockets they name.
public final class UpstreamConnectionPool: @unchecked Sendable {
    public let eventLoop: any EventLoop
    private let connector: UpstreamConnector
    private var machine: UpstreamPoolStateMachine<UpstreamInstance, UpstreamConnection, Int>
    /// Requesters queued by the state machine, by waiter number.
    private var waiting: [Int: EventLoopPromise<UpstreamConnection>] = [:]
    private var nextWaiter = 0

    init(eventLoop: any EventLoop, connector: UpstreamConnector, limits: UpstreamPoolStateMachine<UpstreamInstance, UpstreamConnection, Int>.Limits) {
        self.eventLoop = eventLoop
        self.connector = connector
        self.machine = .init(limits: limits)
    }

    public enum Lease {
        case ready(UpstreamConnection)
        /// A connection is being opened, or waited for (the instance is at its cap); the
        /// future fails at once while connects to the instance back off.
        case connecting(EventLoopFuture<UpstreamConnection>)
    }

    /// A pooled connection to `instance` if one is idle, otherwise a new or awaited one.
    public func acquire(_ instance: UpstreamInstance) -> Lease {
        eventLoop.assertInEventLoop()
        nextWaiter &+= 1
        switch machine.acquire(instance, waiter: nextWaiter, now: .now()) {
        case .use(let connection):
            // Closed but its close not reported yet: it is counted out when it is.
            return connection.isClosed ? acquire(instance) : .ready(connection)
        case .connect:
            return .connecting(open(instance))
        case .wait:
            let promise = eventLoop.makePromise(of: UpstreamConnection.self)
            waiting[nextWaiter] = promise
            return .connecting(promise.futureResult)
        case .fail(let reason):
            return .connecting(eventLoop.makeFailedFuture(UpstreamFailure.connectFailed(reason)))
        }
    }

    /// Opens a connection the state machine counted in.
    private func open(_ instance: UpstreamInstance) -> EventLoopFuture<UpstreamConnection> {
        let promise = eventLoop.makePromise(of: UpstreamConnection.self)
        connector.connect(to: instance, on: eventLoop).assumeIsolated().whenComplete { [weak self] result in
            guard let self else {
                promise.completeWith(result)
                return
            }
            switch result {
            case .success(let connection):
                self.machine.connectSucceeded(instance)
                // Set once per connection: every close, idle or leased, is counted out there.
                connection.onClose = { [weak self] closed in self?.closed(closed) }
                promise.succeed(connection)
            case .failure(let error):
                let reason = UpstreamErrorText.describe(error)
                for waiter in self.machine.connectFailed(instance, reason: reason, now: .now()) {
                    self.waiting.removeValue(forKey: waiter)?.fail(UpstreamFailure.connectFailed(reason))
                }
                promise.fail(error)
            }
        }
        return promise.futureResult
    }

    /// A new connection for one protocol upgrade; it never returns to the pool.
    public func openForUpgrade(_ instance: UpstreamInstance) -> EventLoopFuture<UpgradeConnection> {
        connector.connectForUpgrade(to: instance, on: eventLoop)
    }

    /// Returns a connection after an exchange; closes it when it cannot be reused.
    public func release(_ connection: UpstreamConnection, reusable: Bool) {
        eventLoop.assertInEventLoop()
        connection.receiver = nil
        connection.resumeReading()
        let reuse = reusable && connection.responseKeepAlive && !connection.isClosed
        switch machine.release(connection.instance, connection, reusable: reuse) {
        case .keepIdle:
            break
        case .close:
            connection.close()
        case .handOver(let connection, let waiter):
            guard let promise = waiting.removeValue(forKey: waiter) else {
                release(connection, reusable: true)
                return
            }
            // On its own turn of the loop: the waiter's exchange must not start inside the
            // one that is ending here.
            eventLoop.execute { promise.succeed(connection) }
        }
    }

    /// A connection closed (server, client or gateway side): it no longer counts, and a
    /// requester waiting for a slot gets a new connection.
    private func closed(_ connection: UpstreamConnection) {
        switch machine.closed(connection.instance, connection, now: .now()) {
        case .none:
            break
        case .connect(let waiter):
            let opened = open(connection.instance)
            if let promise = waiting.removeValue(forKey: waiter) {
                opened.cascade(to: promise)
            } else {
                opened.assumeIsolated().whenSuccess { [weak self] in self?.release($0, reusable: true) }
            }
        }
    }

    /// Closes every idle connection and fails every waiting requester (shutdown).
    public func closeAll() {
        let (idle, waiters) = machine.drain()
        for connection in idle { connection.close() }
        for waiter in waiters { waiting.removeValue(forKey: waiter)?.fail(UpstreamFailure.connectFailed("the gateway is shutting down")) }
    }

    public var idleCount: Int { machine.idleCount }

}

/// One `UpstreamConnectionPool` per event loop of the server's group, found by the loop a
/// client connection runs on. Built before serving and never changed, so lookups need no lock.
public final class UpstreamPools: Sendable {
    private let pools: [ObjectIdentifier: UpstreamConnectionPool]

    public init(group: any EventLoopGroup, connector: UpstreamConnector, maxIdlePerInstance: Int, maxOpenPerInstance: Int) {
        var pools: [ObjectIdentifier: UpstreamConnectionPool] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = UpstreamConnectionPool(
                eventLoop: loop, connector: connector, limits: .init(maxIdle: maxIdlePerInstance, maxOpen: maxOpenPerInstance))
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
