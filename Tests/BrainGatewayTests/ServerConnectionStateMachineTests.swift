@testable import BrainAPI
import Testing

/// One client connection, both planes, event by event, without sockets.
@Suite struct ServerConnectionStateMachineTests {
    final class Exchange: ConnectionExchange {
        var requestEnded = false
    }
    final class Upgrade {}
    typealias Connection = ServerConnectionStateMachine<Exchange, Upgrade>

    @Test func aRequestPipelinedDuringAResponseWaitsForIt() {
        var connection = Connection()
        #expect(connection.requestHead(plane: .data, asksForUpgrade: false, isHead: false) == .runStages)
        let exchange = Exchange()
        connection.exchangeStarted(exchange)
        // Its body parts are read while the request lasts…
        #expect(connection.acceptsParts)
        exchange.requestEnded = true
        // …then the next request's bytes wait in the reader until the response is out.
        #expect(!connection.acceptsParts)
        #expect(connection.exchangeFinished(keepAlive: true) == .readNext)
        #expect(connection.isIdle && connection.acceptsParts)
    }

    @Test func controlPlaneRequestsPassThroughAndTheNextWaitsForTheirResponse() {
        var connection = Connection()
        #expect(connection.requestHead(plane: .control, asksForUpgrade: false, isHead: true) == .passToControlPlane)
        #expect(connection.controlPlaneIsHead)
        #expect(connection.acceptsParts)
        #expect(connection.requestEnded() == .none)
        #expect(!connection.acceptsParts)
        #expect(connection.controlPlaneResponseEnded() == .readNext)
        #expect(connection.isIdle)
        // Hummingbird may answer before the request ends: the connection is free at its end.
        #expect(connection.requestHead(plane: .control, asksForUpgrade: false, isHead: false) == .passToControlPlane)
        #expect(connection.controlPlaneResponseEnded() == .none)
        #expect(connection.requestEnded() == .readNext)
    }

    @Test func aControlPlaneUpgradeRequestIsTheConnectionsLast() {
        var connection = Connection()
        _ = connection.requestHead(plane: .control, asksForUpgrade: true, isHead: false)
        #expect(connection.requestEnded() == .none)
        #expect(connection.controlPlaneResponseEnded() == .closeAfterResponse)
    }

    @Test func shutdownClosesAnIdleConnectionAtOnceAndABusyOneAfterItsResponse() {
        var idle = Connection()
        #expect(idle.quiesce(pendingBytes: false) == .closeNow)
        // A pipelined request waiting counts as busy.
        var pipelined = Connection()
        #expect(pipelined.quiesce(pendingBytes: true) == .closeAfterDrain)

        var busy = Connection()
        _ = busy.requestHead(plane: .data, asksForUpgrade: false, isHead: false)
        let exchange = Exchange()
        busy.exchangeStarted(exchange)
        #expect(busy.quiesce(pendingBytes: false) == .closeAfterDrain)
        #expect(!busy.mayKeepAlive)
        exchange.requestEnded = true
        // Even a keep-alive exchange closes the connection now.
        #expect(busy.exchangeFinished(keepAlive: true) == .closeAfterResponse)

        var control = Connection()
        _ = control.requestHead(plane: .control, asksForUpgrade: false, isHead: false)
        _ = control.requestEnded()
        #expect(control.quiesce(pendingBytes: false) == .closeAfterDrain)
        #expect(control.controlPlaneResponseEnded() == .closeAfterResponse)
    }

    @Test func nothingIsReadWhileAStageWaits() {
        var connection = Connection()
        _ = connection.requestHead(plane: .data, asksForUpgrade: false, isHead: false)
        connection.stageSuspended()
        #expect(!connection.acceptsParts)
        #expect(Bool(connection.stageResumed()))
        #expect(!Bool(connection.stageResumed()))
        #expect(connection.acceptsParts)
        // Closed while waiting: the late answer is not acted on.
        connection.stageSuspended()
        connection.closing()
        #expect(!Bool(connection.stageResumed()))
    }

    @Test func anAnsweredRequestFreesTheConnectionAtItsEnd() {
        var connection = Connection()
        _ = connection.requestHead(plane: .data, asksForUpgrade: false, isHead: false)
        connection.answeredBeforeBody(keepAlive: true)
        #expect(connection.acceptsParts)
        #expect(connection.requestEnded() == .readNext)
        // Refused with a body still to come: the connection closes.
        _ = connection.requestHead(plane: .data, asksForUpgrade: false, isHead: false)
        connection.answeredBeforeBody(keepAlive: false)
        #expect(connection.requestEnded() == .none)
        guard case .closing = connection.state else { Issue.record("not closing"); return }
    }

    @Test func aHeadMidRequestClosesTheConnection() {
        var connection = Connection()
        _ = connection.requestHead(plane: .data, asksForUpgrade: false, isHead: false)
        connection.exchangeStarted(Exchange())
        #expect(connection.requestHead(plane: .data, asksForUpgrade: false, isHead: false) == .close)
    }

    @Test func aWebSocketHandshakeBecomesATunnel() {
        var connection = Connection()
        _ = connection.requestHead(plane: .data, asksForUpgrade: true, isHead: false)
        let exchange = Exchange()
        exchange.requestEnded = true
        connection.upgradeStarted(Upgrade(), exchange)
        connection.becameTunnel()
        guard case .tunnel = connection.state else { Issue.record("not a tunnel"); return }
        #expect(!connection.isIdle)
    }
}
