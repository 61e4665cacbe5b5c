import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A stand-in OpenTelemetry collector: accepts OTLP/HTTP JSON posts to `/v1/traces` on
/// 127.0.0.1 and keeps every span it was sent, flattened.
final class OTLPCollector: @unchecked Sendable {
    struct Span: Sendable {
        let traceID: String
        let spanID: String
        let parentSpanID: String
        let name: String
        let kind: Int
        let attributes: [String: String]
        let errorStatus: Bool
    }

    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var channel: (any Channel)?
    private let received = NIOLockedValueBox<[Span]>([])
    private let paths = NIOLockedValueBox<[String]>([])
    var url: String { "http://127.0.0.1:\(channel?.localAddress?.port ?? 0)" }
    var spans: [Span] { received.withLockedValue { $0 } }
    var requestPaths: [String] { paths.withLockedValue { $0 } }

    init() async throws {
        let received = self.received
        let paths = self.paths
        channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Receiver { path, body in
                        paths.withLockedValue { $0.append(path) }
                        let spans = Self.parse(body)
                        received.withLockedValue { $0 += spans }
                    })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// Waits until `condition` holds for the spans received (or 10 s pass).
    func waitFor(_ condition: ([Span]) -> Bool) async -> [Span] {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let now = spans
            if condition(now) { return now }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return spans
    }

    func shutdown() async {
        try? await channel?.close()
        try? await group.shutdownGracefully()
    }

    /// OTLP JSON ids are hex; a protobuf-JSON encoder may write base64 instead: accept both.
    static func hexID(_ text: String?) -> String {
        guard let text, !text.isEmpty else { return "" }
        if text.count == 16 || text.count == 32, text.allSatisfy(\.isHexDigit) { return text.lowercased() }
        guard let data = Data(base64Encoded: text) else { return text }
        return data.map { String(format: "%02x", $0) }.joined()
    }

    static func parse(_ body: Data) -> [Span] {
        guard let root = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return [] }
        var out: [Span] = []
        for resource in root["resourceSpans"] as? [[String: Any]] ?? [] {
            for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                for span in scope["spans"] as? [[String: Any]] ?? [] {
                    var attributes: [String: String] = [:]
                    for attribute in span["attributes"] as? [[String: Any]] ?? [] {
                        guard let key = attribute["key"] as? String, let value = attribute["value"] as? [String: Any] else { continue }
                        attributes[key] = value.values.first.map { "\($0)" } ?? ""
                    }
                    let kind: Int = (span["kind"] as? Int) ?? ["SPAN_KIND_INTERNAL": 1, "SPAN_KIND_SERVER": 2, "SPAN_KIND_CLIENT": 3][span["kind"] as? String ?? ""] ?? 0
                    let status = span["status"] as? [String: Any]
                    let code = status?["code"]
                    out.append(Span(
                        traceID: hexID(span["traceId"] as? String), spanID: hexID(span["spanId"] as? String),
                        parentSpanID: hexID(span["parentSpanId"] as? String), name: span["name"] as? String ?? "", kind: kind,
                        attributes: attributes, errorStatus: (code as? Int) == 2 || (code as? String) == "STATUS_CODE_ERROR"))
                }
            }
        }
        return out
    }

    private final class Receiver: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        private var body = ByteBuffer()
        private var path = ""
        private let onRequest: @Sendable (String, Data) -> Void
        init(_ onRequest: @escaping @Sendable (String, Data) -> Void) { self.onRequest = onRequest }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                path = head.uri
                body.clear()
            case .body(var part):
                body.writeBuffer(&part)
            case .end:
                onRequest(path, Data(body.readableBytesView))
                let reply = ByteBuffer(string: "{}")
                let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Content-Type": "application/json", "Content-Length": "\(reply.readableBytes)"])
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(reply))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
