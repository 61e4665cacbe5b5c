import BrainInfrastructure
import NIOCore
import Testing

/// One event loop's upstream connections, event by event, without sockets or clocks.
@Suite struct UpstreamPoolStateMachineTests {
    typealias Pool = UpstreamPoolStateMachine<String, Int, Int>

    private static func pool(maxIdle: Int = 8, maxOpen: Int = 8) -> Pool {
        Pool(limits: .init(maxIdle: maxIdle, maxOpen: maxOpen, backoffBase: .milliseconds(10), backoffCap: .milliseconds(40)))
    }

    private static func at(_ milliseconds: Int64) -> NIODeadline { .uptimeNanoseconds(UInt64(milliseconds) * 1_000_000) }

    @Test func idleConnectionsAreReusedLastInFirstOut() {
        var pool = Self.pool()
        #expect(pool.acquire("a", waiter: 1, now: Self.at(0)) == .connect)
        #expect(pool.acquire("a", waiter: 2, now: Self.at(0)) == .connect)
        pool.connectSucceeded("a")
        #expect(pool.release("a", 100, reusable: true) == .keepIdle)
        #expect(pool.release("a", 200, reusable: true) == .keepIdle)
        #expect(pool.acquire("a", waiter: 3, now: Self.at(1)) == .use(200))
        #expect(pool.acquire("a", waiter: 4, now: Self.at(1)) == .use(100))
        #expect(pool.acquire("b", waiter: 5, now: Self.at(1)) == .connect)
        #expect(pool.openCount("a") == 2)
        #expect(pool.openCount("b") == 1)
    }

    @Test func anUnreusableOrSurplusConnectionIsClosedAndCountedOutWhenItCloses() {
        var pool = Self.pool(maxIdle: 1)
        _ = pool.acquire("a", waiter: 1, now: Self.at(0))
        _ = pool.acquire("a", waiter: 2, now: Self.at(0))
        _ = pool.acquire("a", waiter: 3, now: Self.at(0))
        #expect(pool.release("a", 1, reusable: false) == .close)
        #expect(pool.release("a", 2, reusable: true) == .keepIdle)
        #expect(pool.release("a", 3, reusable: true) == .close)
        #expect(pool.openCount("a") == 3)
        #expect(pool.closed("a", 1, now: Self.at(1)) == .none)
        #expect(pool.closed("a", 3, now: Self.at(1)) == .none)
        // The server closes the idle one: it leaves the idle list too.
        #expect(pool.closed("a", 2, now: Self.at(1)) == .none)
        #expect(pool.openCount("a") == 0)
        #expect(pool.idleCount == 0)
        #expect(pool.acquire("a", waiter: 4, now: Self.at(2)) == .connect)
    }

    @Test func pastTheCapRequestersWaitAndGetReturnedConnectionsInOrder() {
        var pool = Self.pool(maxOpen: 2)
        #expect(pool.acquire("a", waiter: 1, now: Self.at(0)) == .connect)
        #expect(pool.acquire("a", waiter: 2, now: Self.at(0)) == .connect)
        #expect(pool.acquire("a", waiter: 3, now: Self.at(0)) == .wait)
        #expect(pool.acquire("a", waiter: 4, now: Self.at(0)) == .wait)
        #expect(pool.waiterCount("a") == 2)
        // Another instance has its own cap.
        #expect(pool.acquire("b", waiter: 5, now: Self.at(0)) == .connect)
        pool.connectSucceeded("a")
        #expect(pool.release("a", 10, reusable: true) == .handOver(10, to: 3))
        // A connection that cannot be reused frees its slot when it closes: the next waiter
        // gets a new one.
        #expect(pool.release("a", 20, reusable: false) == .close)
        #expect(pool.closed("a", 20, now: Self.at(1)) == .connect(for: 4))
        #expect(pool.openCount("a") == 2)
        #expect(pool.waiterCount("a") == 0)
    }

    @Test func failedConnectsBackOffExponentiallyAndFailRequestersFast() {
        var pool = Self.pool(maxOpen: 1)
        #expect(pool.acquire("a", waiter: 1, now: Self.at(0)) == .connect)
        #expect(pool.acquire("a", waiter: 2, now: Self.at(0)) == .wait)
        // The failed connect fails the waiter too.
        #expect(pool.connectFailed("a", reason: "connection refused", now: Self.at(0)) == [2])
        #expect(pool.openCount("a") == 0)
        #expect(pool.acquire("a", waiter: 3, now: Self.at(5)) == .fail("connection refused"))
        #expect(pool.acquire("a", waiter: 4, now: Self.at(10)) == .connect)
        #expect(pool.connectFailed("a", reason: "connection refused", now: Self.at(10)).isEmpty)
        // Second failure in a row: 20 ms.
        #expect(pool.acquire("a", waiter: 5, now: Self.at(29)) == .fail("connection refused"))
        #expect(pool.acquire("a", waiter: 6, now: Self.at(30)) == .connect)
        _ = pool.connectFailed("a", reason: "timed out", now: Self.at(30))
        _ = pool.acquire("a", waiter: 7, now: Self.at(70))
        _ = pool.connectFailed("a", reason: "timed out", now: Self.at(70))
        // Capped at 40 ms.
        #expect(pool.acquire("a", waiter: 8, now: Self.at(109)) == .fail("timed out"))
        #expect(pool.acquire("a", waiter: 9, now: Self.at(110)) == .connect)
        // A success ends the backoff: the next failure starts again at 10 ms.
        pool.connectSucceeded("a")
        #expect(pool.release("a", 1, reusable: false) == .close)
        _ = pool.closed("a", 1, now: Self.at(111))
        _ = pool.acquire("a", waiter: 10, now: Self.at(111))
        _ = pool.connectFailed("a", reason: "connection refused", now: Self.at(111))
        #expect(pool.acquire("a", waiter: 11, now: Self.at(121)) == .connect)
    }

    @Test func idleConnectionsStillServeDuringABackoff() {
        var pool = Self.pool()
        _ = pool.acquire("a", waiter: 1, now: Self.at(0))
        _ = pool.acquire("a", waiter: 2, now: Self.at(0))
        pool.connectSucceeded("a")
        _ = pool.release("a", 7, reusable: true)
        _ = pool.connectFailed("a", reason: "connection refused", now: Self.at(1))
        #expect(pool.acquire("a", waiter: 3, now: Self.at(2)) == .use(7))
        #expect(pool.acquire("a", waiter: 4, now: Self.at(2)) == .fail("connection refused"))
    }

    @Test func drainingHandsBackIdleConnectionsAndWaiters() {
        var pool = Self.pool(maxOpen: 1)
        _ = pool.acquire("a", waiter: 1, now: Self.at(0))
        _ = pool.acquire("a", waiter: 2, now: Self.at(0))
        _ = pool.acquire("b", waiter: 3, now: Self.at(0))
        #expect(pool.release("b", 30, reusable: true) == .keepIdle)
        let drained = pool.drain()
        #expect(drained.idle == [30])
        #expect(drained.waiters == [2])
        #expect(pool.idleCount == 0)
    }
}
