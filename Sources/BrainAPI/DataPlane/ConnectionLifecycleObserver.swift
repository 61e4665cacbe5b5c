import NIOCore

/// Sits at the very front of a client connection's pipeline and tells the data-plane handler
/// two things it cannot see from behind the HTTP decoder: that bytes of a new request started
/// arriving (so a request head that trickles in can be timed out — slowloris), and that the
/// server began a graceful shutdown (which the HTTP pipeline handler consumes).
final class ConnectionLifecycleObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let dataPlane: DataPlaneHandler

    init(dataPlane: DataPlaneHandler) {
        self.dataPlane = dataPlane
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        dataPlane.clientBytesArrived()
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            dataPlane.gracefulShutdownStarted()
        }
        context.fireUserInboundEventTriggered(event)
    }
}
