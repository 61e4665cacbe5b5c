import NIOCore

/// Sits at the very front of a client connection's pipeline: its context is where the data
/// plane writes relayed responses as bytes, past NIO's response encoder, and a raw `408` when a
/// head never finished. It also tells the data-plane handler that the server began a graceful
/// shutdown (which `DataPlaneHandler` acts on and consumes).
final class ConnectionLifecycleObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let dataPlane: DataPlaneHandler
    private var context: ChannelHandlerContext?

    init(dataPlane: DataPlaneHandler) {
        self.dataPlane = dataPlane
        dataPlane.rawResponder = self
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        dataPlane.frontContext = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        dataPlane.frontContext = nil
    }

    /// Writes a complete response as raw bytes and closes. Used when no request was decoded
    /// (a head that never finished), so the HTTP handlers have no request to answer.
    func writeRawAndClose(status: String, body: ByteBuffer) {
        guard let context else { return }
        var buffer = context.channel.allocator.buffer(capacity: 128 + body.readableBytes)
        buffer.writeString("HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.readableBytes)\r\nConnection: close\r\n\r\n")
        var body = body
        buffer.writeBuffer(&body)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(buffer), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            dataPlane.gracefulShutdownStarted()
        }
        context.fireUserInboundEventTriggered(event)
    }
}
