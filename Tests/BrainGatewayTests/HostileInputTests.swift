import Foundation
import NIOCore
import NIOPosix
import Testing

/// Request smuggling vectors and other hostile input, sent byte for byte over raw sockets:
/// each is answered 400 with the connection closed, and nothing reaches the backend.
@Suite struct HostileInputTests {
    static let vectors: [(String, String)] = [
        ("content-length and transfer-encoding",
         "POST /svc/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("two differing content-lengths",
         "POST /svc/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
        ("content-length list",
         "POST /svc/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\nabcd"),
        ("signed content-length",
         "POST /svc/echo HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc"),
        ("invalid chunk size",
         "POST /svc/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"),
        ("negative chunk size",
         "POST /svc/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n0\r\n\r\n"),
        ("overflowing chunk size",
         "POST /svc/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nabc\r\n0\r\n\r\n"),
        ("transfer-encoding not ending in chunked",
         "POST /svc/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
        ("unknown transfer-encoding",
         "POST /svc/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nabc"),
        ("obsolete line folding",
         "GET /svc/x HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n"),
        ("bare CR in a header value",
         "GET /svc/x HTTP/1.1\r\nHost: x\r\nX-Evil: a\rInjected: yes\r\n\r\n"),
        ("bare LF in a header value",
         "GET /svc/x HTTP/1.1\r\nHost: x\r\nX-Evil: a\nInjected: yes\r\n\r\n"),
        ("NUL in a header value",
         "GET /svc/x HTTP/1.1\r\nHost: x\r\nX-Evil: a\u{0}b\r\n\r\n"),
        ("space before the colon",
         "GET /svc/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n"),
        ("control character in the path",
         "GET /svc/a\u{1}b HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("malformed percent-encoding in the path",
         "GET /svc/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("invalid UTF-8 in the path",
         "GET /svc/%C0%AF HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("encoded CRLF in the path",
         "GET /svc/a%0d%0aInjected:%20yes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
        ("HTTP/1.1 without Host",
         "GET /svc/x HTTP/1.1\r\nConnection: close\r\n\r\n"),
        ("two Host headers",
         "GET /svc/x HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n"),
    ]

    @Test(arguments: vectors.map(\.0))
    func smugglingVectorsAreRefusedAndNothingIsForwarded(name: String) async throws {
        let request = try #require(Self.vectors.first { $0.0 == name }?.1)
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            let bytes = try await gateway.exchange(request, timeout: .seconds(5))
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 400"), "\(name): \(text.prefix(80))")
            // Exactly one response: the connection is closed after it, so nothing smuggled runs.
            #expect(text.components(separatedBy: "HTTP/1.1 ").count == 2, "\(name)")
            #expect(backend.requests.isEmpty, "\(name) reached the backend")
        }
    }

    @Test func aSmuggledSecondRequestNeverReachesTheBackend() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            // Classic CL.TE: a front end honouring Content-Length would forward the rest as a new request.
            let request = "POST /svc/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /svc/smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
            let answer = String(decoding: try await gateway.exchange(request, timeout: .seconds(5)), as: UTF8.self)
            // Both framings at once is refused outright (RFC 9112 §6.3), before anything is forwarded.
            #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer.prefix(200))")
            #expect(answer.components(separatedBy: "HTTP/1.1 ").count == 2, "one response only")
            #expect(!backend.requests.contains { $0.uri.contains("smuggled") })
            #expect(backend.requests.isEmpty)
        }
    }

    @Test func slowClientsDoNotStarveOthers() async throws {
        try await withGateway(services: { oneService($0) }, configure: { $0.limits.headerTimeoutSeconds = 2 }) { gateway, _ in
            // 200 slowloris connections, each sending a byte of a request head every 300 ms.
            let group = MultiThreadedEventLoopGroup.singleton
            var slow: [any Channel] = []
            for _ in 0..<200 {
                slow.append(try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: gateway.port).get())
            }
            let trickle = Task {
                let head = Array("GET /svc/x HTTP/1.1\r\nHost: x\r\nX-Slow: ".utf8)
                for byte in head {
                    for channel in slow where channel.isActive {
                        channel.writeAndFlush(ByteBuffer(bytes: [byte]), promise: nil)
                    }
                    try await Task.sleep(for: .milliseconds(300))
                    if Task.isCancelled { return }
                }
            }
            // Meanwhile normal clients are served promptly.
            for _ in 0..<20 {
                let started = ContinuousClock.now
                let r = try await gateway.send("GET /svc/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                #expect(r.status == 200)
                #expect(ContinuousClock.now - started < .seconds(1))
                try await Task.sleep(for: .milliseconds(100))
            }
            // And the slow ones are cut at the head deadline.
            try await Task.sleep(for: .milliseconds(1500))
            #expect(slow.filter(\.isActive).count == 0)
            trickle.cancel()
            for channel in slow { try? await channel.close() }
        }
    }
}
