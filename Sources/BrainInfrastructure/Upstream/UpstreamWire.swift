import NIOCore
import NIOHTTP1

/// The front of an upstream connection's pipeline, where request bytes enter the socket.
///
/// The gateway writes each upstream request as bytes it composed itself (no `HTTPHeaders`, no
/// request encoder). NIO's response decoder still has to learn each request's method — the
/// answer to a HEAD has no body whatever its length field says — and it learns it by watching
/// request heads go past. So the connection sends it a small marker head per request; the
/// marker stops here, having produced no bytes.
final class UpstreamWire: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = IOData

    private weak var connection: UpstreamConnection?

    init(connection: UpstreamConnection) {
        self.connection = connection
    }

    func handlerAdded(context: ChannelHandlerContext) {
        connection?.wire = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        connection?.wire = nil
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only markers come this way; bytes are written from this handler's context directly.
        promise?.succeed(())
    }
}
