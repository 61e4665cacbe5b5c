import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A real HTTP/1.1 server on 127.0.0.1 whose answers a test scripts per request: each request
/// (method, URI, headers, body) is recorded with when it arrived and when it was answered, then
/// answered by `reply` after the delay it asks for. Workflow tests read from it which steps
/// were called, with what, and whether two calls overlapped in time.
final class ScriptedBackend: @unchecked Sendable {
    struct Request: Sendable {
        let method: String
        let uri: String
        let headers: HTTPHeaders
        let body: String
        let arrivedAt: Date
        var answeredAt: Date?

        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) }
        func header(_ name: String) -> String? { headers.first(name: name) }
    }

    struct Reply: Sendable {
        var status: Int = 200
        var body: String = "{}"
        var delayMilliseconds = 0
        var headers: [(String, String)] = []

        static func json(_ body: String, status: Int = 200, delay: Int = 0) -> Reply { Reply(status: status, body: body, delayMilliseconds: delay) }
    }

    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private(set) var channel: (any Channel)!
    var port: Int { channel.localAddress!.port! }
    var url: String { "http://127.0.0.1:\(port)" }
    private let state = NIOLockedValueBox<(requests: [Request], reply: @Sendable (Request) -> Reply)>(([], { _ in Reply() }))

    /// - Parameter port: 0 for an ephemeral port; a port a stopped backend had, to restart it.
    init(port: Int = 0, reply: @escaping @Sendable (Request) -> Reply = { _ in Reply() }) async throws {
        state.withLockedValue { $0.reply = reply }
        let backend = self
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ScriptedHandler(backend: backend))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
    }

    func setReply(_ reply: @escaping @Sendable (Request) -> Reply) { state.withLockedValue { $0.reply = reply } }

    /// Every request so far, in arrival order (health probes excluded).
    var requests: [Request] { state.withLockedValue { $0.requests } }
    func requests(matching path: String) -> [Request] { requests.filter { $0.uri.hasSuffix(path) || $0.uri.contains(path + "?") } }

    fileprivate func arrived(_ request: Request) -> (Int, Reply) {
        state.withLockedValue { s in
            s.requests.append(request)
            return (s.requests.count - 1, s.reply(request))
        }
    }

    fileprivate func answered(_ index: Int) { state.withLockedValue { $0.requests[index].answeredAt = Date() } }

    private let stopped = NIOLockedValueBox(false)

    func shutdown() async {
        guard stopped.withLockedValue({ s in defer { s = true }; return !s }) else { return }
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

private final class ScriptedHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private let backend: ScriptedBackend
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(backend: ScriptedBackend) { self.backend = backend }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.clear()
        case .body(var b):
            body.writeBuffer(&b)
        case .end:
            guard let head else { return }
            let text = body.readString(length: body.readableBytes) ?? ""
            if head.uri.hasSuffix("/health") {
                respond(context: context, reply: .init(), index: nil, keepAlive: head.isKeepAlive)
                return
            }
            let (index, reply) = backend.arrived(.init(method: head.method.rawValue, uri: head.uri, headers: head.headers, body: text, arrivedAt: Date()))
            let keepAlive = head.isKeepAlive
            if reply.delayMilliseconds > 0 {
                let loop = context.eventLoop
                let boxed = NIOLoopBound(context, eventLoop: loop)
                loop.scheduleTask(in: .milliseconds(Int64(reply.delayMilliseconds))) { [self] in
                    respond(context: boxed.value, reply: reply, index: index, keepAlive: keepAlive)
                }
            } else {
                respond(context: context, reply: reply, index: index, keepAlive: keepAlive)
            }
        }
    }

    private func respond(context: ChannelHandlerContext, reply: ScriptedBackend.Reply, index: Int?, keepAlive: Bool) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", String(reply.body.utf8.count))])
        for (name, value) in reply.headers { headers.add(name: name, value: value) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: reply.status), headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: reply.body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        if let index { backend.answered(index) }
        if !keepAlive { context.close(promise: nil) }
    }
}
