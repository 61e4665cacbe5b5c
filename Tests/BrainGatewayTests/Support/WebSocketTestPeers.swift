import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A WebSocket backend on 127.0.0.1 built on NIO's own server upgrader (an independent
/// implementation of RFC 6455 to test the gateway's relay against). Under any path it echoes
/// text and binary frames as they came, answers a ping with a pong of the same payload, echoes
/// a close frame's code, and on the text `close:<code>` closes with that code itself. A request
/// to a path ending in `/refuse` is answered `403` instead of `101`.
final class WebSocketEchoBackend: @unchecked Sendable {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var channel: (any Channel)?
    private let seen = NIOLockedValueBox<[HTTPRequestHead]>([])
    var port: Int { channel?.localAddress?.port ?? 0 }
    var url: String { "http://127.0.0.1:\(port)" }
    /// The upgrade requests the backend received, in order.
    var handshakes: [HTTPRequestHead] { seen.withLockedValue { $0 } }

    init() async throws {
        let seen = self.seen
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let upgrader = NIOWebSocketServerUpgrader(
                    maxFrameSize: 1 << 20,
                    shouldUpgrade: { channel, head in
                        seen.withLockedValue { $0.append(head) }
                        return channel.eventLoop.makeSucceededFuture(head.uri.hasSuffix("/refuse") ? nil : HTTPHeaders())
                    },
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            let sync = channel.pipeline.syncOperations
                            sync.removeHandler(try sync.handler(type: Refuse.self), promise: nil)
                            try sync.addHandler(EchoFrames())
                        }
                    })
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                    try channel.pipeline.syncOperations.addHandler(Refuse())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func shutdown() async {
        try? await channel?.close()
        try? await group.shutdownGracefully()
    }

    /// Answers what the upgrader declined: 403 with a small JSON body.
    private final class Refuse: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            let body = ByteBuffer(string: #"{"refused":true}"#)
            let head = HTTPResponseHead(version: .http1_1, status: .forbidden, headers: ["Content-Length": "\(body.readableBytes)", "Content-Type": "application/json"])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    private final class EchoFrames: ChannelInboundHandler {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            let payload = frame.unmaskedData
            switch frame.opcode {
            case .text where String(buffer: payload).hasPrefix("close:"):
                var code = ByteBuffer()
                code.writeInteger(UInt16(String(buffer: payload).dropFirst(6)) ?? 1000)
                close(context, WebSocketFrame(fin: true, opcode: .connectionClose, data: code))
            case .text, .binary:
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: frame.opcode, data: payload)), promise: nil)
            case .ping:
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: payload)), promise: nil)
            case .connectionClose:
                close(context, WebSocketFrame(fin: true, opcode: .connectionClose, data: payload))
            default:
                break
            }
        }
        private func close(_ context: ChannelHandlerContext, _ frame: WebSocketFrame) {
            context.writeAndFlush(wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}

/// A WebSocket client written against the RFC by hand (no NIOWebSocket): a raw TCP connection,
/// the opening handshake as text, frames masked on the way out and parsed on the way in.
final class WebSocketTestClient {
    struct Frame: Equatable {
        var opcode: UInt8
        var payload: [UInt8]
        var text: String { String(decoding: payload, as: UTF8.self) }
        var closeCode: UInt16? { opcode == 8 && payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil }
    }

    private let connection: KeepAliveConnection
    private var buffered: [UInt8] = []
    /// The handshake's response head (status line and fields).
    private(set) var responseHead = ""
    var status: Int { Int(responseHead.split(separator: " ").dropFirst().first ?? "") ?? 0 }

    /// Connects and sends the handshake for `path` with `headers` (e.g. `Authorization`).
    init(port: Int, path: String, headers: [String] = [], key: String = "dGhlIHNhbXBsZSBub25jZQ==") async throws {
        connection = try await KeepAliveConnection(port: port)
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        for header in headers { request += header + "\r\n" }
        try await connection.write(request + "\r\n")
        var bytes: [UInt8] = []
        while true {
            if let end = RawHTTP.find([13, 10, 13, 10], in: bytes, from: 0) {
                responseHead = String(decoding: bytes[..<end], as: UTF8.self)
                buffered = Array(bytes[(end + 4)...])
                break
            }
            guard let more = try await connection.readRaw() else { throw RawHTTP.ParseError(reason: "closed during the handshake") }
            bytes += more
        }
    }

    func header(_ name: String) -> String? {
        for line in responseHead.split(separator: "\r\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() { return parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }

    /// The rest of a non-101 response (its body), read until the gateway closes.
    func remainingText() async -> String {
        var all = buffered
        while let more = try? await connection.readRaw() { all += more }
        return String(decoding: all, as: UTF8.self)
    }

    func send(opcode: UInt8, _ payload: [UInt8]) async throws {
        var frame: [UInt8] = [0x80 | opcode]
        let mask: [UInt8] = (0..<4).map { _ in UInt8.random(in: 0...255) }
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 65535 {
            frame.append(0x80 | 126)
            frame += [UInt8(payload.count >> 8), UInt8(payload.count & 0xff)]
        } else {
            frame.append(0x80 | 127)
            frame += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xff) }
        }
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try await connection.writeBytes(frame)
    }

    func send(text: String) async throws { try await send(opcode: 1, Array(text.utf8)) }

    func close(code: UInt16) async throws { try await send(opcode: 8, [UInt8(code >> 8), UInt8(code & 0xff)]) }

    /// The next complete frame (server frames are not masked).
    func receive() async throws -> Frame {
        while true {
            if let frame = parse() { return frame }
            guard let more = try await connection.readRaw() else { throw RawHTTP.ParseError(reason: "connection closed") }
            buffered += more
        }
    }

    /// Whether the server closed the TCP connection (reads end) within `timeout`.
    func closedByServer() async -> Bool {
        while let more = try? await connection.readRaw() { buffered += more }
        return true
    }

    private func parse() -> Frame? {
        guard buffered.count >= 2 else { return nil }
        let opcode = buffered[0] & 0x0f
        var length = Int(buffered[1] & 0x7f)
        var offset = 2
        if length == 126 {
            guard buffered.count >= 4 else { return nil }
            length = Int(buffered[2]) << 8 | Int(buffered[3])
            offset = 4
        } else if length == 127 {
            guard buffered.count >= 10 else { return nil }
            length = buffered[2..<10].reduce(0) { $0 << 8 | Int($1) }
            offset = 10
        }
        guard buffered[1] & 0x80 == 0, buffered.count >= offset + length else { return nil }
        let frame = Frame(opcode: opcode, payload: Array(buffered[offset..<(offset + length)]))
        buffered.removeFirst(offset + length)
        return frame
    }

    func disconnect() async { await connection.close() }
}
