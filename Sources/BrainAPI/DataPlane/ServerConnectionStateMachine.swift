/// What a proxied exchange tells the connection about itself.
protocol ConnectionExchange: AnyObject {
    /// The client sent the whole request: what it sends next is the next request.
    var requestEnded: Bool { get }
}

/// One client connection — both planes on one socket — as a value that takes events and
/// returns what to do: which plane a request goes to, whether the next bytes can be read now
/// or wait (pipelining: one response at a time), when the control plane's answer is done, and
/// when the connection closes (after a refusal, an upgrade, or on graceful shutdown).
///
/// The exchange and the WebSocket upgrade are held inline as the handler's objects; the
/// machine reads only whether the exchange's request is complete. Tested without sockets.
struct ServerConnectionStateMachine<Exchange: ConnectionExchange, Upgrade: AnyObject> {
    enum State {
        /// Waiting for the next request head.
        case idle
        /// A control-plane request is being handed to Hummingbird.
        case controlPlane
        /// A control-plane request was handed on whole; its response is still going out.
        case controlPlaneResponding
        /// A stage waits for something off the loop (the auth service; a shared store):
        /// nothing more is read meanwhile.
        case awaitingStage
        case proxying(Exchange)
        /// A WebSocket handshake is with the upstream.
        case upgrading(Upgrade, Exchange)
        /// The gateway answered a body-less request; the request's end is still to come.
        case answered
        /// The connection is a byte tunnel.
        case tunnel
        /// The connection is closing; inbound parts are ignored.
        case closing
    }

    private(set) var state: State = .idle
    /// Graceful shutdown began: no response keeps the connection open any more.
    private(set) var shuttingDown = false
    /// Control-plane responses written by Hummingbird but not yet ended.
    private(set) var controlResponsesPending = 0
    /// The control-plane request in progress asked for a protocol upgrade (nothing is read
    /// after it: the connection ends with its response, or becomes `/ws/events`).
    private(set) var controlPlaneAskedForUpgrade = false
    /// The control-plane request in progress is a HEAD: its response carries no body.
    private(set) var controlPlaneIsHead = false

    var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    /// Whether the next request part can be handled now, rather than waiting in the reader
    /// behind a response still going out.
    var acceptsParts: Bool {
        switch state {
        case .idle, .controlPlane, .answered, .closing, .upgrading, .tunnel: true
        case .controlPlaneResponding, .awaitingStage: false
        case .proxying(let exchange): !exchange.requestEnded
        }
    }

    // MARK: Requests

    enum HeadAction: Equatable {
        /// Hand the head to the control plane.
        case passToControlPlane
        /// Run the data plane's stages.
        case runStages
        /// Not expected now (the reader never gives a head mid-request): close.
        case close
    }

    /// A request head, for `plane`.
    mutating func requestHead(plane: PlaneSelector.Plane, asksForUpgrade: Bool, isHead: Bool) -> HeadAction {
        guard case .idle = state else { return .close }
        guard plane == .control else { return .runStages }
        state = .controlPlane
        controlPlaneAskedForUpgrade = asksForUpgrade
        controlPlaneIsHead = isHead
        controlResponsesPending += 1
        return .passToControlPlane
    }

    /// Whether a data-plane response may keep the connection open, as far as the connection
    /// is concerned (the request and response have their own say).
    var mayKeepAlive: Bool { !shuttingDown }

    /// A stage must wait for an answer from off the loop.
    mutating func stageSuspended() { state = .awaitingStage }

    /// The answer came: the stages go on from where they stopped. False when the connection
    /// moved on meanwhile (it closed).
    mutating func stageResumed() -> Bool {
        guard case .awaitingStage = state else { return false }
        state = .idle
        return true
    }

    mutating func exchangeStarted(_ exchange: Exchange) { state = .proxying(exchange) }

    mutating func upgradeStarted(_ upgrade: Upgrade, _ exchange: Exchange) { state = .upgrading(upgrade, exchange) }

    /// The gateway answered before reading any body: the connection goes on when the request
    /// had none and may be kept, otherwise it closes after the answer.
    mutating func answeredBeforeBody(keepAlive: Bool) { state = keepAlive ? .answered : .closing }

    enum NextRequestAction: Equatable {
        /// The connection is free: read what waits in the reader (on its own turn of the loop).
        case readNext
        /// Close once the response is written.
        case closeAfterResponse
        case none
    }

    /// The request's end arrived.
    mutating func requestEnded() -> NextRequestAction {
        switch state {
        case .answered:
            state = .idle
            return .readNext
        case .controlPlane:
            if controlResponsesPending == 0 { return controlPlaneFinished() }
            state = .controlPlaneResponding
            return .none
        default:
            return .none
        }
    }

    /// The exchange ended (its response written or being written): the next request may come
    /// if both sides allow.
    mutating func exchangeFinished(keepAlive: Bool) -> NextRequestAction {
        if keepAlive && !shuttingDown {
            state = .idle
            return .readNext
        }
        state = .closing
        return .closeAfterResponse
    }

    mutating func becameTunnel() { state = .tunnel }

    mutating func closing() { state = .closing }

    // MARK: Control-plane responses

    /// A control-plane response ended.
    mutating func controlPlaneResponseEnded() -> NextRequestAction {
        guard controlResponsesPending > 0 else { return .none }
        controlResponsesPending -= 1
        // Draining, or an upgrade request (nothing is read after it): this was the
        // connection's last response.
        if shuttingDown || controlPlaneAskedForUpgrade { return .closeAfterResponse }
        if case .controlPlaneResponding = state, controlResponsesPending == 0 { return controlPlaneFinished() }
        return .none
    }

    private mutating func controlPlaneFinished() -> NextRequestAction {
        if controlPlaneAskedForUpgrade {
            state = .closing
            return .closeAfterResponse
        }
        state = .idle
        return .readNext
    }

    // MARK: Shutdown

    enum QuiesceAction: Equatable {
        /// Nothing is in progress: close now.
        case closeNow
        /// Something is: let it finish within the drain time, then close.
        case closeAfterDrain
    }

    /// Graceful shutdown began. `pendingBytes`: a pipelined request waits in the reader.
    mutating func quiesce(pendingBytes: Bool) -> QuiesceAction {
        shuttingDown = true
        if case .idle = state, !pendingBytes, controlResponsesPending == 0 { return .closeNow }
        return .closeAfterDrain
    }
}
