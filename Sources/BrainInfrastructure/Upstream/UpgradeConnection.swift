import BrainDomain
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// What a dedicated upgrade connection reports to the proxy that opened it. All calls happen
/// on the connection's event loop (the client connection's loop).
public protocol UpgradeResponseReceiver: AnyObject {
    /// The upstream switched protocols (`101`): the connection is ready to become a tunnel.
    func upgradeAccepted(_ head: HTTPResponseHead)
    /// The upstream answered with something else; the body and end follow.
    func upgradeRefused(_ head: HTTPResponseHead)
    func upgradeRefusalBody(_ body: ByteBuffer)
    func upgradeRefusalEnd()
    func upgradeFailed(_ failure: UpstreamFailure)
}

/// A connection opened for one protocol upgrade (a WebSocket handshake), never pooled: it sends
/// the upgrade request, reports the answer, and after a `101` hands its socket to a
/// `ByteRelay`. Bytes the upstream sent right behind its `101` (allowed by RFC 6455) are kept by
/// the response decoder and passed to the relay when the decoder leaves the pipeline.
public final class UpgradeConnection: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    public typealias InboundIn = HTTPClientResponsePart
    public typealias OutboundOut = HTTPClientRequestPart

    public weak var receiver: (any UpgradeResponseReceiver)?
    private var context: ChannelHandlerContext?
    private var encoder: HTTPRequestEncoder?
    private var decoder: ByteToMessageHandler<HTTPResponseDecoder>?
    private var accepted: HTTPResponseHead?
    private var refused = false

    init() {}

    /// Sets up the channel's pipeline (inside its initializer, on its event loop).
    fileprivate func install(on pipeline: ChannelPipeline.SynchronousOperations) throws {
        let encoder = HTTPRequestEncoder()
        let decoder = ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes))
        try pipeline.addHandler(encoder)
        try pipeline.addHandler(decoder)
        try pipeline.addHandler(self)
        self.encoder = encoder
        self.decoder = decoder
    }

    public func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    public func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Sends the upgrade request (a body-less GET).
    public func send(_ head: HTTPRequestHead) {
        guard let context else { return }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// After `upgradeAccepted`: replaces the HTTP handlers with `relay`. Bytes the decoder still
    /// holds reach the relay first.
    public func becomeTunnel(through relay: ByteRelay) throws {
        guard let context, let encoder, let decoder else { throw UpstreamFailure.connectionClosed }
        receiver = nil
        let pipeline = context.pipeline.syncOperations
        try pipeline.addHandler(relay, position: .after(decoder))
        pipeline.removeHandler(encoder, promise: nil)
        pipeline.removeHandler(decoder, promise: nil)
        pipeline.removeHandler(self, promise: nil)
    }

    public func close() {
        receiver = nil
        context?.close(promise: nil)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if head.status == .switchingProtocols {
                accepted = head
            } else {
                refused = true
                receiver?.upgradeRefused(head)
            }
        case .body(let body):
            if refused { receiver?.upgradeRefusalBody(body) }
        case .end:
            if let head = accepted {
                // Reported outside the decoder's own callback: the receiver takes the decoder
                // out of the pipeline.
                accepted = nil
                context.eventLoop.assumeIsolated().execute { [weak self] in self?.receiver?.upgradeAccepted(head) }
            } else if refused {
                refused = false
                receiver?.upgradeRefusalEnd()
            }
        }
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error is HTTPParserError ? .invalidResponse("\(error)") : .connectionClosed)
        context.close(promise: nil)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        fail(.connectionClosed)
        context.fireChannelInactive()
    }

    private func fail(_ failure: UpstreamFailure) {
        guard let r = receiver else { return }
        receiver = nil
        r.upgradeFailed(failure)
    }
}

extension UpstreamConnector {
    /// Opens a connection for one protocol upgrade on `eventLoop`.
    public func connectForUpgrade(to instance: UpstreamInstance, on eventLoop: any EventLoop) -> EventLoopFuture<UpgradeConnection> {
        let connection = UpgradeConnection()
        return open(instance, on: eventLoop) { pipeline in try connection.install(on: pipeline) }.map { connection }
    }
}
