import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

/// What an upstream sends back, byte for byte, read by the gateway's own response parser over
/// real sockets: ambiguous or malformed responses become 502 and are never relayed; the framings
/// HTTP/1.1 allows are relayed whole.
@Suite struct UpstreamResponseParsingTests {
    /// A loopback server answering every request with the same bytes (then closing when asked).
    final class RawUpstream: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let answer: String
        let closeAfter: Bool
        private let connections = NIOLockedValueBox(0)
        private var channel: (any Channel)?
        var connectionCount: Int { connections.withLockedValue { $0 } }

        init(answer: String, closeAfter: Bool) {
            self.answer = answer
            self.closeAfter = closeAfter
        }

        func start() async throws -> Int {
            let handler = self
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    handler.connections.withLockedValue { $0 += 1 }
                    return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(RawUpstreamConnection(upstream: handler)) }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            self.channel = channel
            return channel.localAddress?.port ?? 0
        }

        func stop() async { try? await channel?.close() }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
    }

    final class RawUpstreamConnection: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let upstream: RawUpstream
        private var received = ""

        init(upstream: RawUpstream) { self.upstream = upstream }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += String(buffer: unwrapInboundIn(data))
            // One answer per request head.
            while let end = received.range(of: "\r\n\r\n") {
                received = String(received[end.upperBound...])
                let written = context.eventLoop.makePromise(of: Void.self)
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: upstream.answer)), promise: written)
                if upstream.closeAfter { written.futureResult.whenComplete { _ in context.close(promise: nil) } }
            }
        }
    }

    private static func withRawUpstream(
        _ answer: String, closeAfter: Bool = false, _ body: (GatewayHarness, RawUpstream) async throws -> Void
    ) async throws {
        let upstream = RawUpstream(answer: answer, closeAfter: closeAfter)
        let port = try await upstream.start()
        let gateway = try await GatewayHarness.start(yaml: "services:\n  - {name: svc, url: http://127.0.0.1:\(port), base_path: /, retry: {retries: 0}}\n")
        try await withTeardown {
            try await body(gateway, upstream)
        } teardown: {
            await gateway.stop()
            await upstream.stop()
        }
    }

    static let malformed: [(String, String)] = [
        ("two differing content-lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc"),
        ("content-length and chunked", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
        ("bare LF in a field", "HTTP/1.1 200 OK\r\nX-A: 1\nX-B: 2\r\nContent-Length: 0\r\n\r\n"),
        ("obsolete line folding", "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n"),
        ("not a status line", "HTTP/2 200\r\nContent-Length: 0\r\n\r\n"),
    ]

    @Test(arguments: malformed.map(\.0))
    func aMalformedResponseIs502AndNeverRelayed(name: String) async throws {
        let answer = try #require(Self.malformed.first { $0.0 == name }?.1)
        try await Self.withRawUpstream(answer) { gateway, _ in
            let r = try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(r.status == 502, "\(name): \(r.status) \(r.text)")
            #expect(r.text.contains("invalid response"), "\(name): \(r.text)")
            #expect(r.header("x-a") == nil && r.header("x-b") == nil)
        }
    }

    @Test func aMalformedChunkAfterTheHeadCutsTheResponse() async throws {
        try await Self.withRawUpstream("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n") { gateway, _ in
            let bytes = try await gateway.exchange("GET /svc/x HTTP/1.1\r\nHost: x\r\n\r\n")
            let text = String(decoding: bytes, as: UTF8.self)
            // The body turned out malformed after the head: the connection is closed without the
            // last chunk (and here, the head still held back, without anything), so the client
            // knows the response is incomplete.
            #expect(text.isEmpty || text.hasPrefix("HTTP/1.1 200"), "\(text.prefix(80))")
            #expect(!text.contains("abc"))
            #expect(!text.hasSuffix("0\r\n\r\n"))
        }
    }

    @Test func aBodyDelimitedByTheCloseIsRelayedWhole() async throws {
        try await Self.withRawUpstream("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it, until the close", closeAfter: true) { gateway, _ in
            let r = try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(r.status == 200)
            #expect(r.text == "all of it, until the close")
        }
    }

    @Test func informationalResponsesAreNotRelayed() async throws {
        try await Self.withRawUpstream("HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok") { gateway, _ in
            let bytes = try await gateway.exchange("GET /svc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 201"), "\(text.prefix(80))")
            #expect(!text.contains("103"))
            #expect(text.hasSuffix("ok"))
        }
    }

    @Test func anUpstreamSendingMoreThanItsResponseIsNotReused() async throws {
        try await Self.withRawUpstream("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra") { gateway, upstream in
            for _ in 0..<3 {
                let r = try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                #expect(r.status == 200)
                #expect(r.text == "ok")
            }
            // The leftover bytes are never read as the next request's response: a connection
            // each (plus, perhaps, the health monitor's first probe); reused, there would be one.
            #expect(upstream.connectionCount >= 3)
        }
    }
}
