@testable import BrainAPI
import NIOCore
import Testing

/// The client connection's deadlines and its one timer, without sockets or clocks.
@Suite struct ConnectionDeadlinesTests {
    private static func at(_ seconds: Int64) -> NIODeadline { .uptimeNanoseconds(UInt64(seconds) * 1_000_000_000) }
    private static func deadlines() -> ConnectionDeadlines { ConnectionDeadlines(idleTimeout: .seconds(60), headTimeout: .seconds(10)) }

    @Test func anIdleConnectionClosesAfterTheIdleTimeout() {
        var d = Self.deadlines()
        #expect(d.becameIdle(now: Self.at(0)) == .arm(Self.at(60)))
        let fired = d.timerFired(now: Self.at(60), idle: true)
        #expect(fired.expired == [.idle])
        #expect(fired.next == .keep)
    }

    @Test func aHeadThatStartedMustFinishWithinTheHeadTimeout() {
        var d = Self.deadlines()
        _ = d.becameIdle(now: Self.at(0))
        // The head deadline is earlier than the armed idle one: the timer moves.
        #expect(d.bytesArrived(now: Self.at(5)) == .arm(Self.at(15)))
        // More bytes of the same head change nothing.
        #expect(d.bytesArrived(now: Self.at(6)) == .keep)
        #expect(d.timerFired(now: Self.at(15), idle: true).expired == [.head])
        // A head arriving late in the idle period is still held to the idle deadline.
        var late = Self.deadlines()
        _ = late.becameIdle(now: Self.at(0))
        #expect(late.bytesArrived(now: Self.at(55)) == .keep)
        #expect(late.timerFired(now: Self.at(60), idle: true).expired == [.head])
    }

    @Test func aKeepAliveConnectionKeepsItsEarlierTimer() {
        var d = Self.deadlines()
        #expect(d.becameIdle(now: Self.at(0)) == .arm(Self.at(60)))
        // The first request's upstream deadline (30 s) is earlier: the timer moves once.
        d.requestStarted()
        #expect(d.awaitUpstream(until: Self.at(31)) == .arm(Self.at(31)))
        d.upstreamSettled()
        #expect(d.becameIdle(now: Self.at(1)) == .keep)
        // Request after request: every later deadline finds an earlier timer armed.
        for second in 2...20 {
            d.requestStarted()
            #expect(d.awaitUpstream(until: Self.at(Int64(second) + 30)) == .keep)
            d.upstreamSettled()
            #expect(d.becameIdle(now: Self.at(Int64(second))) == .keep)
        }
        // When it fires, nothing has expired and it re-arms for the deadline ahead.
        let fired = d.timerFired(now: Self.at(31), idle: true)
        #expect(fired.expired.isEmpty)
        #expect(fired.next == .arm(Self.at(80)))
    }

    @Test func anUpstreamDeadlineEarlierThanTheTimerReplacesIt() {
        var d = Self.deadlines()
        _ = d.becameIdle(now: Self.at(0))
        d.requestStarted()
        #expect(d.awaitUpstream(until: Self.at(2)) == .arm(Self.at(2)))
        let fired = d.timerFired(now: Self.at(2), idle: false)
        #expect(fired.expired == [.upstream])
        #expect(fired.next == .keep)
        #expect(d.upstream == nil)
    }

    @Test func anIdleDeadlineIsNotActedOnWhileARequestIsAnswered() {
        var d = Self.deadlines()
        _ = d.becameIdle(now: Self.at(0))
        // The handler is still answering (not idle) when the idle deadline passes: no expiry
        // and no timer armed at a moment already past.
        let fired = d.timerFired(now: Self.at(61), idle: false)
        #expect(fired.expired.isEmpty)
        #expect(fired.next == .keep)
    }

    @Test func aTunnelStopsEveryDeadline() {
        var d = Self.deadlines()
        _ = d.becameIdle(now: Self.at(0))
        #expect(Bool(d.stopAll()))
        #expect(d.armed == nil && d.idleSince == nil && d.upstream == nil)
        #expect(d.bytesArrived(now: Self.at(1)) == .keep)
    }
}
