import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A real HTTP/1.1 server on 127.0.0.1 (ephemeral port) whose behaviour each test steers.
///
/// Endpoints (matched on the last path segment, or its prefix, so any base path works):
/// - `.../inspect`  answers JSON with the method, URI, headers and body length/checksum it saw
/// - `.../echo`     answers the request body byte for byte
/// - `.../sink`     streams the body away, answers `{"bytes": n, "checksum": c}`
/// - `.../bytes/N`  streams N pattern bytes, honouring backpressure
/// - `.../slow/MS`  answers after MS milliseconds
/// - `.../hang`     never answers
/// - `.../reset`    closes the connection without answering
/// - `.../chunked-wait` sends a first chunk, then the last one when `releaseChunk()` is called
/// - `.../cookies`  answers with three `Set-Cookie` fields
/// - `.../hop`      answers with hop-by-hop fields that must not reach the client
/// - `.../health`   200, or 503 while `healthy` is false
/// - `.../introspect` an RFC 7662 endpoint: the form's `token` looked up in `introspection`
///   (absent → `{"active": false}`), answered after `introspectionDelayMilliseconds`
/// - `.../cacheable?cc=…&vary=…&etag=…` answers `{"n": <count>, "vary": <value>}` with those
///   `Cache-Control`/`Vary`/`ETag` fields; 304 when `If-None-Match` matches `etag`
/// - anything else  200 with `{"path": "<uri>"}` — after `delayMilliseconds`, or failing as
///   `failure` says (reset, or a 500) while it is set
final class TestBackend: @unchecked Sendable {
    enum Failure: Sendable { case reset, status500 }
    let group: MultiThreadedEventLoopGroup
    private(set) var channel: (any Channel)!
    var port: Int { channel.localAddress!.port! }
    private let tls: NIOSSLContext?
    var url: String { tls == nil ? "http://127.0.0.1:\(port)" : "https://localhost:\(port)" }

    private let state = NIOLockedValueBox(State())
    struct State {
        var healthy = true
        var requests: [HTTPRequestHead] = []
        var connections = 0
        var chunkWaiters: [@Sendable () -> Void] = []
        var closedBeforeResponse = 0
        var healthProbes = 0
        var jwks = ""
        var jwksFetches = 0
        var failure: Failure?
        var delayMilliseconds = 0
        var cacheableServed = 0
        var introspection: [String: String] = [:]
        var introspectionCalls: [(token: String, authorization: String?)] = []
        var introspectionDelayMilliseconds = 0
    }

    /// Token → the JSON the introspection endpoint answers for it.
    var introspection: [String: String] {
        get { state.withLockedValue { $0.introspection } }
        set { state.withLockedValue { $0.introspection = newValue } }
    }
    var introspectionDelayMilliseconds: Int {
        get { state.withLockedValue { $0.introspectionDelayMilliseconds } }
        set { state.withLockedValue { $0.introspectionDelayMilliseconds = newValue } }
    }
    /// Every introspection call: the token asked about and the caller's `Authorization`.
    var introspectionCalls: [(token: String, authorization: String?)] { state.withLockedValue { $0.introspectionCalls } }

    fileprivate func introspect(_ token: String, authorization: String?) -> (answer: String, delay: Int) {
        state.withLockedValue {
            $0.introspectionCalls.append((token, authorization))
            return ($0.introspection[token] ?? #"{"active": false}"#, $0.introspectionDelayMilliseconds)
        }
    }

    /// How the default endpoint fails (nil: it answers normally).
    var failure: Failure? {
        get { state.withLockedValue { $0.failure } }
        set { state.withLockedValue { $0.failure = newValue } }
    }
    /// Delay before the default endpoint answers.
    var delayMilliseconds: Int {
        get { state.withLockedValue { $0.delayMilliseconds } }
        set { state.withLockedValue { $0.delayMilliseconds = newValue } }
    }
    fileprivate func nextCacheable() -> Int { state.withLockedValue { $0.cacheableServed += 1; return $0.cacheableServed } }

    /// The document served at `.../jwks`; empty means answer 503 (the endpoint is "down").
    var jwks: String {
        get { state.withLockedValue { $0.jwks } }
        set { state.withLockedValue { $0.jwks = newValue } }
    }
    var jwksFetches: Int { state.withLockedValue { $0.jwksFetches } }

    fileprivate func takeJWKS() -> String {
        state.withLockedValue { $0.jwksFetches += 1; return $0.jwks }
    }

    var healthProbes: Int { state.withLockedValue { $0.healthProbes } }

    var healthy: Bool {
        get { state.withLockedValue { $0.healthy } }
        set { state.withLockedValue { $0.healthy = newValue } }
    }
    var requests: [HTTPRequestHead] { state.withLockedValue { $0.requests } }
    var connectionCount: Int { state.withLockedValue { $0.connections } }
    /// Connections that closed while a `/hang` or `/slow` request was unanswered.
    var abandonedRequests: Int { state.withLockedValue { $0.closedBeforeResponse } }

    func releaseChunk() {
        let waiters = state.withLockedValue { s -> [@Sendable () -> Void] in
            defer { s.chunkWaiters = [] }
            return s.chunkWaiters
        }
        waiters.forEach { $0() }
    }

    /// - Parameter port: 0 for an ephemeral port; a port a stopped backend had, to restart it.
    init(tls: NIOSSLContext? = nil, port: Int = 0) async throws {
        self.tls = tls
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let backend = self
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                backend.state.withLockedValue { $0.connections += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(BackendHandler(backend: backend))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
    }

    private let stopped = NIOLockedValueBox(false)

    /// Stops the server; later calls do nothing (a test may stop a backend its teardown stops too).
    func shutdown() async {
        guard stopped.withLockedValue({ s in defer { s = true }; return !s }) else { return }
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    fileprivate func record(_ head: HTTPRequestHead) {
        // Health probes are counted apart so tests can assert what the proxy forwarded.
        if head.uri.hasSuffix("/health") {
            state.withLockedValue { $0.healthProbes += 1 }
        } else {
            state.withLockedValue { $0.requests.append(head) }
        }
    }

    fileprivate func addChunkWaiter(_ waiter: @escaping @Sendable () -> Void) {
        state.withLockedValue { $0.chunkWaiters.append(waiter) }
    }

    fileprivate func noteAbandoned() {
        state.withLockedValue { $0.closedBeforeResponse += 1 }
    }

    static func patternByte(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: index &* 31 &+ 7) }
}

/// A cheap order-sensitive checksum (not cryptographic) for byte-exactness checks.
struct Checksum {
    var value: UInt64 = 1469598103934665603
    var count = 0
    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        for b in bytes { value = (value ^ UInt64(b)) &* 1099511628211 }
        count += bytes.count
    }
    mutating func add(_ buffer: ByteBuffer) { buffer.withUnsafeReadableBytes { add($0) } }
    mutating func add(_ bytes: [UInt8]) { bytes.withUnsafeBytes { add($0) } }
}

private final class BackendHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let backend: TestBackend
    var head: HTTPRequestHead?
    var body = ByteBuffer()
    var checksum = Checksum()
    var streamingSink = false
    var pendingAnswer = false
    // Streaming download state.
    var remaining = 0
    var offset = 0
    var streaming = false

    init(backend: TestBackend) { self.backend = backend }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            backend.record(h)
            body.clear()
            checksum = Checksum()
            streamingSink = h.uri.contains("/sink")
        case .body(let b):
            checksum.add(b)
            if !streamingSink { var b = b; body.writeBuffer(&b) }
        case .end:
            guard let head else { return }
            respond(context: context, head: head)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if pendingAnswer { backend.noteAbandoned() }
        context.fireChannelInactive()
    }

    private func last(_ uri: String) -> String {
        let path = uri.split(separator: "?").first.map(String.init) ?? uri
        return path
    }

    func respond(context: ChannelHandlerContext, head: HTTPRequestHead) {
        let path = last(head.uri)
        if path.hasSuffix("/inspect") {
            var headers: [[String]] = []
            for (n, v) in head.headers { headers.append([n, v]) }
            let json: [String: Any] = [
                "method": head.method.rawValue, "uri": head.uri, "headers": headers,
                "body_length": checksum.count, "checksum": String(checksum.value),
            ]
            let data = try! JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
            send(context, status: .ok, body: ByteBuffer(bytes: data), contentType: "application/json", requestHead: head)
        } else if path.hasSuffix("/echo") {
            send(context, status: .ok, body: body, contentType: "application/octet-stream", requestHead: head)
        } else if path.hasSuffix("/sink") {
            let text = "{\"bytes\":\(checksum.count),\"checksum\":\"\(checksum.value)\"}"
            send(context, status: .ok, body: ByteBuffer(string: text), contentType: "application/json", requestHead: head)
        } else if let range = path.range(of: "/bytes/"), let n = Int(path[range.upperBound...]) {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: String(n))
            headers.add(name: "Content-Type", value: "application/octet-stream")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            remaining = n
            offset = 0
            streaming = true
            pump(context)
        } else if let range = path.range(of: "/slow/"), let ms = Int(path[range.upperBound...]) {
            pendingAnswer = true
            context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(ms))) { [self] in
                pendingAnswer = false
                send(context, status: .ok, body: ByteBuffer(string: "{\"slow\":\(ms)}"), contentType: "application/json", requestHead: head)
            }
        } else if path.hasSuffix("/hang") {
            pendingAnswer = true
        } else if path.hasSuffix("/reset") {
            context.close(promise: nil)
        } else if path.hasSuffix("/chunked-wait") {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/plain")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "first;")))), promise: nil)
            let loop = context.eventLoop
            let ctx = NIOLoopBound(context, eventLoop: loop)
            let handler = NIOLoopBound(self, eventLoop: loop)
            backend.addChunkWaiter {
                loop.execute {
                    ctx.value.write(handler.value.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "last")))), promise: nil)
                    ctx.value.writeAndFlush(handler.value.wrapOutboundOut(.end(nil)), promise: nil)
                }
            }
        } else if path.hasSuffix("/cookies") {
            sendOK(context, headers: [
                ("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; HttpOnly"),
                ("Set-Cookie", "c=3, with comma; Expires=Wed, 21 Oct 2015 07:28:00 GMT"),
            ])
        } else if path.hasSuffix("/hop") {
            sendOK(context, headers: [
                ("Connection", "X-Private"), ("X-Private", "secret"), ("Keep-Alive", "timeout=5"),
                ("Proxy-Connection", "keep-alive"), ("Trailer", "X-Trail"), ("Upgrade", "h2c"), ("X-Public", "visible"),
            ])
        } else if path.hasSuffix("/jwks") {
            let document = backend.takeJWKS()
            send(context, status: document.isEmpty ? .serviceUnavailable : .ok, body: ByteBuffer(string: document), contentType: "application/json", requestHead: head)
        } else if path.hasSuffix("/introspect") {
            let form = URLComponents(string: "?" + String(buffer: body))?.queryItems ?? []
            let token = form.first { $0.name == "token" }?.value ?? ""
            let (answer, delay) = backend.introspect(token, authorization: head.headers.first(name: "authorization"))
            pendingAnswer = true
            context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(delay))) { [self] in
                pendingAnswer = false
                send(context, status: .ok, body: ByteBuffer(string: answer), contentType: "application/json", requestHead: head)
            }
        } else if path.hasSuffix("/health") {
            let ok = backend.healthy
            send(context, status: ok ? .ok : .serviceUnavailable, body: ByteBuffer(string: ok ? "{\"status\":\"ok\"}" : "{\"status\":\"down\"}"), contentType: "application/json", requestHead: head)
        } else if let range = path.range(of: "/status/"), let code = Int(path[range.upperBound...]) {
            send(context, status: HTTPResponseStatus(statusCode: code), body: ByteBuffer(string: "{\"status\":\(code)}"), contentType: "application/json", requestHead: head)
        } else if path.hasSuffix("/cacheable") {
            let query = URLComponents(string: head.uri)?.queryItems ?? []
            func item(_ name: String) -> String? { query.first { $0.name == name }?.value }
            var headers = HTTPHeaders()
            if let cc = item("cc") { headers.add(name: "Cache-Control", value: cc) }
            if let vary = item("vary") { headers.add(name: "Vary", value: vary) }
            if let etag = item("etag") {
                headers.add(name: "ETag", value: "\"\(etag)\"")
                if head.headers.first(name: "if-none-match") == "\"\(etag)\"" {
                    headers.add(name: "Content-Length", value: "0")
                    context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .notModified, headers: headers))), promise: nil)
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                    return
                }
            }
            let varyValue = item("vary").flatMap { head.headers.first(name: $0) } ?? ""
            let body = ByteBuffer(string: "{\"n\":\(backend.nextCacheable()),\"vary\":\"\(varyValue)\"}")
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(body.readableBytes))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            switch backend.failure {
            case .reset:
                context.close(promise: nil)
                return
            case .status500:
                send(context, status: .internalServerError, body: ByteBuffer(string: "{\"status\":500}"), contentType: "application/json", requestHead: head)
                return
            case nil:
                break
            }
            let body = ByteBuffer(string: "{\"path\":\"\(head.uri)\"}")
            let delay = backend.delayMilliseconds
            guard delay > 0 else {
                send(context, status: .ok, body: body, contentType: "application/json", requestHead: head)
                return
            }
            pendingAnswer = true
            context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(delay))) { [self] in
                pendingAnswer = false
                send(context, status: .ok, body: body, contentType: "application/json", requestHead: head)
            }
        }
    }

    static let patternChunk: ByteBuffer = {
        ByteBuffer(bytes: (0..<(64 * 1024)).map { TestBackend.patternByte($0) })
    }()

    private func pump(_ context: ChannelHandlerContext) {
        let chunkSize = 64 * 1024
        // The pattern repeats every 256 bytes, so one prepared 64 KiB chunk serves every offset.
        while streaming, remaining > 0, context.channel.isWritable {
            let n = min(chunkSize, remaining)
            let buffer = Self.patternChunk.getSlice(at: 0, length: n)!
            offset += n
            remaining -= n
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        if streaming, remaining == 0 {
            streaming = false
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { pump(context) }
        context.fireChannelWritabilityChanged()
    }

    /// Answers `200 ok` with exactly these header fields (in order) plus Content-Length.
    private func sendOK(_ context: ChannelHandlerContext, headers fields: [(String, String)]) {
        var headers = HTTPHeaders(fields)
        headers.add(name: "Content-Length", value: "2")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func send(_ context: ChannelHandlerContext, status: HTTPResponseStatus, body: ByteBuffer, contentType: String, requestHead: HTTPRequestHead) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if requestHead.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
