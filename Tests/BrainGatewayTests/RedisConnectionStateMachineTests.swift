@testable import BrainInfrastructure
import BrainRESP
import NIOCore
import Testing

/// The Redis connection's decisions without a socket: calls are numbers, replies are values.
@Suite struct RedisConnectionStateMachineTests {
    typealias Machine = RedisConnectionStateMachine<Int>
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    let timeout = TimeAmount.milliseconds(50)

    private func written(_ action: Machine.Action) -> [Int]? {
        switch action {
        case .write(let call): [call]
        case .greet(let calls): calls
        case .writeWaiting(let calls): calls
        default: nil
        }
    }

    @Test func theFirstCallConnectsAndCallsWaitForTheGreeting() {
        var machine = Machine(greetingReplies: 2)
        guard case .connect = machine.send(1, deadline: start + timeout) else { Issue.record("no connect"); return }
        guard case .none = machine.send(2, deadline: start + timeout) else { Issue.record("second call not queued"); return }
        #expect(written(machine.connected()) == [1, 2])
        #expect(machine.phase == .greeting)
        // AUTH's and SELECT's replies come first; the calls' replies follow in order.
        guard case .none = machine.received(.simpleString("OK")), case .none = machine.received(.simpleString("OK")) else {
            Issue.record("greeting replies answered a call"); return
        }
        #expect(machine.phase == .ready)
        guard case .succeed(1, .integer(10)) = machine.received(.integer(10)) else { Issue.record("call 1"); return }
        guard case .succeed(2, .error("ERR x")) = machine.received(.error("ERR x")) else { Issue.record("call 2"); return }
        #expect(written(machine.send(3, deadline: start + timeout)) == [3])
    }

    @Test func aRefusedGreetingFailsTheCallsAndBacksOff() {
        var machine = Machine(greetingReplies: 1)
        _ = machine.send(1, deadline: start + timeout)
        _ = machine.connected()
        guard case .closeAndFail([1], .handshakeRefused("WRONGPASS invalid"), let delay) = machine.received(.error("WRONGPASS invalid")) else {
            Issue.record("refusal not reported"); return
        }
        #expect(delay == .milliseconds(50))
        #expect(machine.phase == .backingOff)
        // While backing off, calls fail at once rather than wait.
        guard case .fail([2], .unavailable) = machine.send(2, deadline: start + timeout) else { Issue.record("no fast failure"); return }
        machine.reconnectDue()
        guard case .connect = machine.send(3, deadline: start + timeout) else { Issue.record("no reconnect"); return }
    }

    @Test func backoffDoublesToOneSecondAndResetsOnSuccess() {
        var machine = Machine(greetingReplies: 0)
        var delays: [TimeAmount] = []
        for _ in 0..<7 {
            _ = machine.send(1, deadline: start + timeout)
            if case .failAndReconnect([1], _, let delay) = machine.connectFailed("refused") { delays.append(delay) }
            machine.reconnectDue()
        }
        #expect(delays == [50, 100, 200, 400, 800, 1000, 1000].map { TimeAmount.milliseconds($0) })
        _ = machine.send(1, deadline: start + timeout)
        _ = machine.connected()
        guard case .failAndReconnect(_, _, let delay) = machine.closed() else { Issue.record("close not reported"); return }
        #expect(delay == .milliseconds(50))
    }

    @Test func aLateCallFailsAndItsReplyIsDroppedInOrder() {
        var machine = Machine(greetingReplies: 0)
        _ = machine.send(1, deadline: start + timeout)
        _ = machine.connected()
        _ = machine.send(2, deadline: start + timeout + .milliseconds(30))
        guard case .fail([1], .timedOut) = machine.timeoutsDue(now: start + timeout) else { Issue.record("no timeout"); return }
        // Call 1's reply arrives late: dropped; call 2 gets its own.
        guard case .none = machine.received(.integer(1)) else { Issue.record("late reply delivered"); return }
        guard case .succeed(2, .integer(2)) = machine.received(.integer(2)) else { Issue.record("call 2 got the wrong reply"); return }
    }

    @Test func aStalledServerIsReplaced() {
        var machine = Machine(greetingReplies: 0, stallAfter: .seconds(1))
        _ = machine.send(1, deadline: start + timeout)
        _ = machine.connected()
        _ = machine.timeoutsDue(now: start + timeout)
        _ = machine.send(2, deadline: start + .milliseconds(900))
        #expect(machine.nextDeadline == start + .milliseconds(900))
        guard case .closeAndFail(let calls, .timedOut, _) = machine.timeoutsDue(now: start + timeout + .seconds(1)) else {
            Issue.record("stall not detected"); return
        }
        #expect(calls == [2])
        #expect(machine.phase == .backingOff)
    }

    @Test func aReplyNobodyAskedForClosesTheConnection() {
        var machine = Machine(greetingReplies: 0)
        _ = machine.send(1, deadline: start + timeout)
        _ = machine.connected()
        _ = machine.received(.integer(1))
        guard case .closeAndFail([], _, _) = machine.received(.integer(2)) else { Issue.record("unexpected reply accepted"); return }
    }

    @Test func callsWaitingForAConnectionTimeOutAndAreCapped() {
        var machine = Machine(greetingReplies: 0, maxWaiting: 2)
        _ = machine.send(1, deadline: start + timeout)
        _ = machine.send(2, deadline: start + timeout)
        guard case .fail([3], .overloaded) = machine.send(3, deadline: start + timeout) else { Issue.record("no cap"); return }
        guard case .fail([1, 2], .timedOut) = machine.timeoutsDue(now: start + timeout) else { Issue.record("waiting calls not timed out"); return }
        #expect(written(machine.connected()) == [])
    }

    @Test func shutDownFailsEverything() {
        var machine = Machine(greetingReplies: 0)
        _ = machine.send(1, deadline: start + timeout)
        _ = machine.connected()
        guard case .closeAndFail([1], .shutDown, _) = machine.shutDown() else { Issue.record("shutdown"); return }
        guard case .fail([2], .shutDown) = machine.send(2, deadline: start + timeout) else { Issue.record("call after shutdown"); return }
    }
}
