import BrainRESP
import NIOCore
import NIOPosix
import NIOSSL

/// One pipelined connection to Redis on one event loop, driving `RedisConnectionStateMachine`:
/// calls are encoded into the socket's write buffer as they come and flushed once per
/// event-loop tick (the calls of one read burst share a round trip); replies are decoded by
/// `RESPDecoder` and answer the calls in order; one timer watches the oldest deadline.
/// Everything runs on `eventLoop`.
final class RedisConnection: @unchecked Sendable {
    struct Call {
        let command: RESPCommand
        let promise: EventLoopPromise<RESPValue>
    }

    let eventLoop: any EventLoop
    private let configuration: RedisConfiguration
    private let tlsContext: NIOSSLContext?
    private var machine: RedisConnectionStateMachine<Call>
    private var channel: (any Channel)?
    private var timer: Scheduled<Void>?
    private var flushScheduled = false
    private let timeout: TimeAmount
    /// Told of every failed call and every answered one (the shared-state status).
    private let observer: @Sendable (_ succeeded: Bool) -> Void

    init(eventLoop: any EventLoop, configuration: RedisConfiguration, tlsContext: NIOSSLContext?, observer: @escaping @Sendable (Bool) -> Void) {
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.tlsContext = tlsContext
        self.machine = RedisConnectionStateMachine(greetingReplies: configuration.greeting.count)
        self.timeout = .nanoseconds(Int64(configuration.timeout * 1e9))
        self.observer = observer
    }

    /// Sends `command`; must be called on `eventLoop`.
    func send(_ command: RESPCommand) -> EventLoopFuture<RESPValue> {
        let promise = eventLoop.makePromise(of: RESPValue.self)
        perform(machine.send(Call(command: command, promise: promise), deadline: .now() + timeout))
        armTimer()
        return promise.futureResult
    }

    func shutDown() {
        perform(machine.shutDown())
        timer?.cancel()
        timer = nil
    }

    private func perform(_ action: RedisConnectionStateMachine<Call>.Action) {
        switch action {
        case .none:
            break
        case .connect:
            connect()
        case .write(let call):
            write(call)
        case .greet(let calls):
            guard let channel else { return }
            var buffer = channel.allocator.buffer(capacity: 64)
            for command in configuration.greeting { command.write(into: &buffer) }
            channel.write(buffer, promise: nil)
            for call in calls { write(call) }
        case .writeWaiting(let calls):
            for call in calls { write(call) }
        case .succeed(let call, let reply):
            observer(true)
            call.promise.succeed(reply)
        case .fail(let calls, let failure):
            fail(calls, failure)
        case .closeAndFail(let calls, let failure, let delay):
            let channel = self.channel
            self.channel = nil
            channel?.close(promise: nil)
            fail(calls, failure)
            scheduleReconnect(after: delay)
        case .failAndReconnect(let calls, let failure, let delay):
            channel = nil
            fail(calls, failure)
            scheduleReconnect(after: delay)
        }
    }

    private func fail(_ calls: [Call], _ failure: RedisCallFailure) {
        if !calls.isEmpty { observer(false) }
        for call in calls { call.promise.fail(failure) }
    }

    private func write(_ call: Call) {
        guard let channel else { return }
        var buffer = channel.allocator.buffer(capacity: 128)
        call.command.write(into: &buffer)
        channel.write(buffer, promise: nil)
        guard !flushScheduled else { return }
        flushScheduled = true
        eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            self.channel?.flush()
        }
    }

    private func connect() {
        var bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(2))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
        let handler = RedisReplyHandler(connection: self)
        let tlsContext = self.tlsContext
        let hostname = configuration.host
        bootstrap = bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let sync = channel.pipeline.syncOperations
                if let tlsContext {
                    try sync.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: hostname.first?.isNumber == true ? nil : hostname))
                }
                try sync.addHandler(handler)
            }
        }
        bootstrap.connect(host: configuration.host, port: configuration.port).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel):
                guard self.machine.phase == .connecting else {
                    channel.close(promise: nil)
                    return
                }
                self.channel = channel
                self.perform(self.machine.connected())
            case .failure(let error):
                self.perform(self.machine.connectFailed("\(error)"))
            }
        }
    }

    private func scheduleReconnect(after delay: TimeAmount) {
        guard machine.phase == .backingOff else { return }
        eventLoop.assumeIsolated().scheduleTask(in: delay) { self.machine.reconnectDue() }
    }

    private func armTimer() {
        guard timer == nil, let deadline = machine.nextDeadline else { return }
        timer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timer = nil
            self.perform(self.machine.timeoutsDue(now: .now()))
            self.armTimer()
        }
    }

    // Called by the channel's handler.

    fileprivate func received(_ reply: RESPValue) { perform(machine.received(reply)) }
    fileprivate func protocolError(_ description: String) { perform(machine.protocolError(description)) }

    fileprivate func channelClosed(_ channel: any Channel) {
        guard self.channel === channel else { return }
        perform(machine.closed())
    }
}

/// The connection's channel handler: bytes in, replies out.
private final class RedisReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let connection: RedisConnection
    private var decoder = RESPDecoder()

    init(connection: RedisConnection) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        decoder.read(unwrapInboundIn(data))
        do {
            while let reply = try decoder.next() {
                if case .push = reply { continue }
                connection.received(reply)
            }
        } catch {
            connection.protocolError("\(error)")
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.channelClosed(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
