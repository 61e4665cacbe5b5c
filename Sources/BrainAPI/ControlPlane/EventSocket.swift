import Crypto
import Foundation
import HTTPTypes
import NIOCore
import NIOWebSocket

/// The server side of a WebSocket opening handshake (RFC 6455 §4.2).
enum WebSocketHandshake {
    /// The `Sec-WebSocket-Accept` answering a valid handshake; a JSON error otherwise.
    static func accept(_ headers: HTTPFields) throws -> String {
        let upgrade = headers[values: .upgrade].flatMap { $0.split(separator: ",") }
        let connection = headers[values: .connection].flatMap { $0.split(separator: ",") }
        guard upgrade.contains(where: { $0.trimmingCharacters(in: .whitespaces).lowercased() == "websocket" }),
              connection.contains(where: { $0.trimmingCharacters(in: .whitespaces).lowercased() == "upgrade" })
        else {
            throw AdminError(
                status: .init(code: 426), code: "upgrade_required", detail: "this endpoint speaks WebSocket only (Upgrade: websocket)",
                headers: [.upgrade: "websocket", .connection: "Upgrade"])
        }
        guard headers[.secWebSocketVersion] == "13" else {
            throw AdminError(
                status: .init(code: 426), code: "upgrade_required", detail: "Sec-WebSocket-Version must be 13",
                headers: [.secWebSocketVersion: "13"])
        }
        guard let key = headers[.secWebSocketKey], let raw = Data(base64Encoded: key), raw.count == 16 else {
            throw AdminError(status: .badRequest, code: "bad_request", detail: "Sec-WebSocket-Key must be 16 bytes in base64")
        }
        let digest = Insecure.SHA1.hash(data: Data((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))
        return Data(digest).base64EncodedString()
    }
}

/// Server-to-client WebSocket frames (unmasked, final), written as bytes behind a `101`.
enum WebSocketFrameBytes {
    static func frame(_ opcode: WebSocketOpcode, payload: ByteBuffer) -> ByteBuffer {
        var payload = payload
        var out = ByteBuffer()
        out.reserveCapacity(payload.readableBytes + 10)
        out.writeInteger(UInt8(0x80) | UInt8(webSocketOpcode: opcode))
        let length = payload.readableBytes
        if length < 126 {
            out.writeInteger(UInt8(length))
        } else if length <= Int(UInt16.max) {
            out.writeInteger(UInt8(126))
            out.writeInteger(UInt16(length))
        } else {
            out.writeInteger(UInt8(127))
            out.writeInteger(UInt64(length))
        }
        out.writeBuffer(&payload)
        return out
    }

    /// A close frame: the code, then the reason (UTF-8, at most 123 bytes so the frame stays a
    /// control frame of ≤ 125 bytes).
    static func close(code: UInt16, reason: String = "") -> ByteBuffer {
        var payload = ByteBuffer()
        payload.writeInteger(code)
        payload.writeBytes(reason.utf8.prefix(123))
        return frame(.connectionClose, payload: payload)
    }
}

/// What a `/ws/events` client sends, once its handshake was answered: sits at the front of the
/// connection's pipeline (the HTTP decoder parses nothing after an upgrade request). Pings are
/// answered with pongs, a close frame is echoed and the connection closed; data frames are
/// ignored (the socket only pushes). Protocol errors close with 1002.
final class EventSocketFrames: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = ByteBuffer

    private var closing = false

    /// The handlers to put at the front of a connection that just switched to `/ws/events`.
    static func handlers() -> [any ChannelHandler] {
        [ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 16)), EventSocketFrames()]
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .ping where !closing:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrameBytes.frame(.pong, payload: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            var payload = frame.unmaskedData
            let code = payload.readInteger(as: UInt16.self) ?? 1000
            closeAfter(WebSocketFrameBytes.close(code: code), context: context)
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closeAfter(WebSocketFrameBytes.close(code: 1002), context: context)
    }

    private func closeAfter(_ frame: ByteBuffer, context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(frame), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
