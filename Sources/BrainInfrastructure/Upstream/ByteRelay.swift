import NIOCore

/// One end of a byte tunnel between two channels of the same event loop — a WebSocket after
/// its `101`: what one side reads the other writes, unchanged, so every frame type and close
/// code passes without being parsed.
///
/// Backpressure: a side reads its socket only while the other side can take writes. When either
/// side closes, the other is closed once what it still had to write has gone out.
public final class ByteRelay: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    private var partner: ByteRelay?
    private var context: ChannelHandlerContext?
    private var readPending = false
    private var needsFlush = false
    /// Whether `channelInactive` goes on down the pipeline (the client side: the handlers behind
    /// the relay learn that their connection ended).
    private let forwardsInactive: Bool
    /// Bytes this side read from its socket.
    public private(set) var bytesRead: Int64 = 0
    /// Called once, when this side's channel closes.
    public var onClose: ((ByteRelay) -> Void)?

    public init(forwardsInactive: Bool) {
        self.forwardsInactive = forwardsInactive
    }

    /// Joins two relays; both must live on the same event loop.
    public static func join(_ a: ByteRelay, _ b: ByteRelay) {
        a.partner = b
        b.partner = a
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Inbound: this side's bytes go to the partner.

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        bytesRead += Int64(buffer.readableBytes)
        partner?.write(buffer)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        partner?.flushIfNeeded()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        let other = partner
        partner = nil
        other?.partnerClosed()
        let hook = onClose
        onClose = nil
        hook?(self)
        if forwardsInactive { context.fireChannelInactive() }
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.readIfPending() }
        if forwardsInactive { context.fireChannelWritabilityChanged() }
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if forwardsInactive { context.fireUserInboundEventTriggered(event) }
    }

    // MARK: Outbound

    public func read(context: ChannelHandlerContext) {
        if let partner, !partner.isWritable {
            readPending = true
        } else {
            context.read()
        }
    }

    private var isWritable: Bool { context?.channel.isWritable ?? true }

    private func write(_ buffer: ByteBuffer) {
        guard let context else { return }
        context.write(wrapOutboundOut(buffer), promise: nil)
        needsFlush = true
    }

    private func flushIfNeeded() {
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
    }

    private func readIfPending() {
        guard readPending, let context else { return }
        readPending = false
        context.read()
    }

    /// The other side closed: close this one after the bytes already queued are written.
    private func partnerClosed() {
        partner = nil
        guard let context else { return }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
