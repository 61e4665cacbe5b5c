import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The child channel of the gateway's one listening port: both planes on one connection.
///
/// Pipeline, front to back — the path a request takes:
/// `ConnectionLifecycleObserver` (raw bytes, shutdown) → NIO's HTTP/1.1 response encoder →
/// `DataPlaneHandler` (parses requests with `RequestReader`; proxies `/{service}/…` on the
/// event loop; one response at a time, pipelined requests kept in the reader; graceful-shutdown
/// quiescing; hands control-plane requests on as NIO parts) → HTTP-types codec →
/// Hummingbird's async channel (the control plane). Data-plane requests never reach the last
/// two, so they cost no Swift task and no type conversion.
public struct GatewayChannel: ServerChildChannel, HTTPChannelHandler {
    public typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    public let responder: HTTPChannelHandler.Responder
    private let environment: DataPlaneEnvironment

    public init(responder: @escaping HTTPChannelHandler.Responder, environment: DataPlaneEnvironment) {
        self.responder = responder
        self.environment = environment
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let dataPlane = DataPlaneHandler(environment: environment)
            let sync = channel.pipeline.syncOperations
            try sync.addHandler(ConnectionLifecycleObserver(dataPlane: dataPlane))
            // Requests are read by the data plane's own parser (`RequestReader`); NIO's response
            // encoder writes the control plane's responses and the gateway's own answers.
            // Relayed responses are written past it as bytes. No outbound header validation:
            // upstream fields were parsed by the gateway's parser (which refuses CR, LF and NUL in them), the
            // gateway's own are fixed or validated when taken from a client (`X-Request-ID`),
            // and Hummingbird's `HTTPFields` check theirs when built.
            try sync.addHandler(HTTPResponseEncoder(configuration: .init()))
            try sync.addHandler(dataPlane)
            try sync.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            return try NIOAsyncChannel(
                wrappingChannelSynchronously: channel,
                configuration: .init(isOutboundHalfClosureEnabled: true)
            )
        }
    }

    public func handle(value asyncChannel: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
