import BrainApplication
import BrainDomain
import BrainInfrastructure
import NIOCore
import NIOHTTP1

/// What a `WebSocketUpgrade` tells the client connection's handler that started it.
protocol WebSocketUpgradeOwner: AnyObject {
    /// The handshake failed before the upstream answered: answer `error` and close.
    func upgradeFailed(_ exchange: ProxyExchange, error: GatewayError, extraHeaders: [(String, String)], logError: String?)
    /// The upstream's answer was relayed (a `101` and the tunnel is up, or a refusal that was
    /// passed on and closes the connection).
    func upgradeFinished(_ exchange: ProxyExchange, tunnel: Bool)
    /// The tunnel that followed a `101` closed (client side): its byte counts.
    func tunnelClosed(_ exchange: ProxyExchange, bytesFromClient: Int64, bytesFromUpstream: Int64)
}

/// Proxies one WebSocket opening handshake (RFC 6455 §4) after the request passed every stage
/// of the pipeline up to the rate limit. The circuit breaker and balancer pick an instance; a
/// dedicated connection carries the handshake; the upstream's `101` goes to the client and both
/// sockets then become a `ByteRelay` pair, so frames, pings and close codes pass unchanged.
/// Any other answer is relayed as an ordinary response and the connection closes.
final class WebSocketUpgrade: UpgradeResponseReceiver {
    private let exchange: ProxyExchange
    private let context: ChannelHandlerContext
    private weak var owner: (any WebSocketUpgradeOwner)?
    private let responseHeaders = ResponseHeaders()
    private var connection: UpgradeConnection?
    private var done = false
    /// The handshake's deadline (a rare path: a task of its own is fine here).
    private var timeout: Scheduled<Void>?

    init(exchange: ProxyExchange, context: ChannelHandlerContext, owner: any WebSocketUpgradeOwner) {
        self.exchange = exchange
        self.context = context
        self.owner = owner
    }

    /// Picks an instance and sends it the handshake built by `head`.
    func start(
        pool: UpstreamConnectionPool, random: inout SplitMix64, timeout: TimeAmount, head: @escaping (UpstreamInstance) -> HTTPRequestHead
    ) {
        let choice = exchange.traffic.choose(now: DataPlaneHandler.policyNow(), excluding: nil, random: &random)
        guard case .instance(let index, _) = choice else {
            var retryAfter: [(String, String)] = []
            if case .noneAdmitted(let after) = choice { retryAfter = [("Retry-After", String(RateLimiting.wholeSecondsUp(after)))] }
            fail(.circuitOpen, extraHeaders: retryAfter, logError: nil)
            return
        }
        let instance = exchange.service.instances[index]
        let attempt = exchange.progress.beginAttempt()
        exchange.instance = instance
        exchange.instanceIndex = index
        exchange.outcomeRecorded = false
        exchange.attemptStartedAt = .now()
        exchange.traffic.balancer.requestStarted(index)
        self.timeout = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
            self?.attemptFailed(.timedOut(afterMilliseconds: Int(timeout.nanoseconds / 1_000_000)))
        }
        pool.openForUpgrade(instance).assumeIsolated().whenComplete { [weak self] result in
            guard let self else {
                if case .success(let connection) = result { connection.close() }
                return
            }
            switch result {
            case .success(let connection):
                guard !self.done, case .writeRequest = self.exchange.progress.connected(attempt: attempt) else {
                    connection.close()
                    return
                }
                self.connection = connection
                connection.receiver = self
                connection.send(head(instance))
            case .failure(let error):
                self.attemptFailed(.connectFailed(error))
            }
        }
    }

    /// The client went away during the handshake.
    func cancel() {
        _ = stop()
    }

    /// Ends the handshake once: no timeout, no upstream connection. False if it had ended.
    private func stop() -> Bool {
        guard !done else { return false }
        done = true
        self.timeout?.cancel()
        self.timeout = nil
        connection?.close()
        connection = nil
        return true
    }

    // MARK: UpgradeResponseReceiver

    func upgradeAccepted(_ head: HTTPResponseHead) {
        guard !done, let connection else { return }
        done = true
        self.timeout?.cancel()
        self.timeout = nil
        _ = exchange.progress.responseHead(attempt: exchange.progress.attempt, status: head.status.code, validatorsSent: false)
        exchange.status = head.status.code
        let waited = Double((NIODeadline.now() - exchange.attemptStartedAt).nanoseconds) / 1e9
        exchange.recordOutcome(.success, latencySeconds: waited, status: 101, now: DataPlaneHandler.policyNow())

        var headers = HTTPHeaders()
        for (name, value) in head.headers where HeaderRole.of(name) == .ordinary { headers.add(name: name, value: value) }
        headers.add(name: "Upgrade", value: head.headers.first(name: "upgrade") ?? "websocket")
        headers.add(name: "Connection", value: "Upgrade")
        headers.add(name: "X-Request-ID", value: exchange.requestID)
        exchange.rateLimit.append(to: &headers)
        let switching = HTTPResponseHead(version: exchange.clientHead.version, status: .switchingProtocols, headers: headers)
        context.write(NIOAny(HTTPServerResponsePart.head(switching)), promise: nil)
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)

        let clientSide = ByteRelay(forwardsInactive: true)
        let upstreamSide = ByteRelay(forwardsInactive: false)
        ByteRelay.join(clientSide, upstreamSide)
        // The client side closes last or alone, so its hook sees the final counts (the hook is
        // dropped once it ran, which releases the upstream side it holds).
        let exchange = self.exchange
        clientSide.onClose = { [weak owner] clientSide in
            owner?.tunnelClosed(exchange, bytesFromClient: clientSide.bytesRead, bytesFromUpstream: upstreamSide.bytesRead)
        }
        do {
            try context.pipeline.syncOperations.addHandler(clientSide, position: .first)
            try connection.becomeTunnel(through: upstreamSide)
        } catch {
            connection.close()
            context.close(promise: nil)
        }
        self.connection = nil
        owner?.upgradeFinished(exchange, tunnel: true)
    }

    func upgradeRefused(_ head: HTTPResponseHead) {
        guard !done else { return }
        self.timeout?.cancel()
        self.timeout = nil
        _ = exchange.progress.responseHead(attempt: exchange.progress.attempt, status: head.status.code, validatorsSent: false)
        exchange.status = head.status.code
        let waited = Double((NIODeadline.now() - exchange.attemptStartedAt).nanoseconds) / 1e9
        let outcome: ServiceBreakers.Outcome = exchange.service.circuitBreaker.isFailure(status: Int(head.status.code)) ? .failure : .success
        exchange.recordOutcome(outcome, latencySeconds: waited, status: Int(head.status.code), now: DataPlaneHandler.policyNow())
        let clientHead = responseHeaders.build(
            from: head, clientVersion: exchange.clientHead.version, requestID: exchange.requestID, keepAlive: false,
            rateLimit: exchange.rateLimit)
        context.write(NIOAny(HTTPServerResponsePart.head(clientHead)), promise: nil)
    }

    func upgradeRefusalBody(_ body: ByteBuffer) {
        guard !done else { return }
        exchange.bytesOut += Int64(body.readableBytes)
        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil)
    }

    func upgradeRefusalEnd() {
        guard !done else { return }
        done = true
        connection?.close()
        connection = nil
        let context = self.context
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        owner?.upgradeFinished(exchange, tunnel: false)
    }

    func upgradeFailed(_ failure: UpstreamFailure) {
        attemptFailed(failure)
    }

    // MARK: Failures

    private func attemptFailed(_ failure: UpstreamFailure) {
        guard !done else { return }
        exchange.recordOutcome(.failure, latencySeconds: nil, now: DataPlaneHandler.policyNow())
        if exchange.progress.responseStarted {
            // A refusal was being relayed and got cut: nothing more can be said.
            done = true
            connection?.close()
            context.close(promise: nil)
            owner?.upgradeFinished(exchange, tunnel: false)
            return
        }
        fail(.upstream(failure), extraHeaders: [], logError: failure.description)
    }

    private func fail(_ error: GatewayError, extraHeaders: [(String, String)], logError: String?) {
        guard stop() else { return }
        owner?.upgradeFailed(exchange, error: error, extraHeaders: extraHeaders, logError: logError)
    }
}
