import BrainDomain
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Opens connections to instances: TCP (and TLS for `https`) on a given event loop, with the
/// HTTP/1.1 client codec and an `UpstreamConnection` at the end of the pipeline.
public struct UpstreamConnector: Sendable {
    private let tlsContext: NIOSSLContext?
    private let connectTimeout: TimeAmount

    /// - Parameter extraTrustRootsFile: PEM file of CA certificates trusted in addition to the
    ///   system's (a private CA for internal `https` instances).
    public init(extraTrustRootsFile: String?, connectTimeout: TimeAmount = .seconds(10)) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let file = extraTrustRootsFile {
            tls.additionalTrustRoots = [.file(file)]
        }
        self.tlsContext = try NIOSSLContext(configuration: tls)
        self.connectTimeout = connectTimeout
    }

    public func connect(to instance: UpstreamInstance, on eventLoop: any EventLoop) -> EventLoopFuture<UpstreamConnection> {
        let connection = UpstreamConnection(instance: instance)
        return open(instance, on: eventLoop) { pipeline in
            // Requests go out as bytes the gateway composed: no request encoder and no
            // re-validation of fields the gateway's parser (which refuses CR, LF and NUL) or the
            // gateway itself produced. Responses are read by the connection's `ResponseReader`.
            try pipeline.addHandler(connection)
        }.map { connection }
    }

    /// TCP (and TLS for `https`) to `instance` on `eventLoop`, then `install` completes the
    /// pipeline.
    func open(
        _ instance: UpstreamInstance, on eventLoop: any EventLoop,
        install: @escaping @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void
    ) -> EventLoopFuture<Void> {
        let tlsContext = self.tlsContext
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.autoRead, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if instance.scheme == .https, let tlsContext {
                        let hostname = Self.isIPAddress(instance.host) ? nil : instance.host
                        try sync.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: hostname))
                    }
                    try install(sync)
                }
            }
            .connect(host: instance.host, port: instance.port)
            .map { _ in }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
    }
}
