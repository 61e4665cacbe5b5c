import NIOCore

/// Sits at the very front of a client connection's pipeline: its context is where the data
/// plane writes relayed responses as bytes, past NIO's response encoder, and a raw `408` when a
/// head never finished. It also tells the data-plane handler that the server began a graceful
/// shutdown (which `DataPlaneHandler` acts on and consumes).
final class ConnectionLifecycleObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let dataPlane: DataPlaneHandler

    init(dataPlane: DataPlaneHandler) {
        self.dataPlane = dataPlane
    }

    func handlerAdded(context: ChannelHandlerContext) {
        dataPlane.frontContext = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        dataPlane.frontContext = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            dataPlane.gracefulShutdownStarted()
        }
        context.fireUserInboundEventTriggered(event)
    }
}
