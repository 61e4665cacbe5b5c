import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Forwarding through real sockets: bodies, methods, query strings, headers.
@Suite struct ProxyForwardingTests {
    static func inspect(_ response: RawResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    static func headerPairs(_ json: [String: Any]) -> [(String, String)] {
        ((json["headers"] as? [[String]]) ?? []).map { ($0[0], $0[1]) }
    }

    @Test(arguments: [0, 1, 64 * 1024, 16 * 1024 * 1024])
    func binaryBodiesAreByteExactBothWays(size: Int) async throws {
        try await withGateway(services: { oneService($0) }) { gateway, _ in
            var bytes = [UInt8](repeating: 0, count: size)
            var generator = SystemRandomNumberGenerator()
            for i in 0..<size { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
            let client = HTTPClient.shared
            var request = authorized(HTTPClientRequest(url: gateway.base + "/svc/echo"))
            request.method = .POST
            request.body = .bytes(ByteBuffer(bytes: bytes))
            let response = try await client.execute(request, timeout: .seconds(60))
            #expect(response.status == .ok)
            let body = try await response.body.collect(upTo: 32 * 1024 * 1024)
            #expect(body.readableBytes == size)
            #expect(Array(body.readableBytesView) == bytes)
        }
    }

    @Test(arguments: ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND", "HEAD"])
    func everyMethodIsForwarded(method: String) async throws {
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            let response = try await gateway.send("\(method) /svc/inspect HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            #expect(response.status == 200)
            #expect(backend.requests.last?.method.rawValue == method)
            #expect(backend.requests.last?.uri == "/base/inspect")
            if method == "HEAD" { #expect(response.body.isEmpty) }
        }
    }

    @Test(arguments: [
        "?a=%2F&b=c", "?q=a+b%20c", "?k=1&k=2&k=", "?empty=&=novalue&&", "?x=%E2%9C%93;y", "?",
    ])
    func queryStringsPassByteForByte(query: String) async throws {
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            let response = try await gateway.send("GET /svc/items/1\(query) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(response.status == 200)
            #expect(backend.requests.last?.uri == "/base/items/1\(query)")
        }
    }

    @Test func basePathJoiningNeverDoublesSlashes() async throws {
        try await withGateway(services: { b in
            """
            services:
              - {name: root, url: \(b.url), base_path: /}
              - {name: deep, url: \(b.url), base_path: /api/v1/}
            """
        }) { gateway, backend in
            for (path, expected) in [("/root/a/b", "/a/b"), ("/root", "/"), ("/deep", "/api/v1"), ("/deep/", "/api/v1/"), ("/deep//x//y", "/api/v1/x/y")] {
                let r = try await gateway.send("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                #expect(r.status == 200, "\(path)")
                #expect(backend.requests.last?.uri == expected, "\(path)")
            }
        }
    }

    @Test func requestHeadersAreRewrittenForTheUpstream() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            let request = """
                GET /svc/inspect HTTP/1.1\r
                Host: gateway.example\r
                Connection: keep-alive, X-Drop-Me\r
                X-Drop-Me: secret\r
                Keep-Alive: timeout=5\r
                Proxy-Connection: keep-alive\r
                TE: trailers\r
                Upgrade: websocket\r
                X-Tenant-ID: 11111111-1111-4111-8111-111111111111\r
                X-TENANT-id: 11111111-1111-4111-8111-111111111111\r
                X-Brain-Token: forged\r
                X-Forwarded-For: 203.0.113.9\r
                X-Forwarded-Proto: https\r
                X-Forwarded-Host: forged.example\r
                X-Request-ID: trace-abc.123\r
                X-Custom: kept\r
                X-Custom: twice\r
                Connection: close\r
                \r

                """
            let response = try await gateway.send(request)
            #expect(response.status == 200)
            let headers = Self.headerPairs(try Self.inspect(response))
            func values(_ name: String) -> [String] { headers.filter { $0.0.lowercased() == name }.map(\.1) }
            for dropped in ["connection", "x-drop-me", "keep-alive", "proxy-connection", "te", "upgrade"] {
                #expect(values(dropped).isEmpty, "\(dropped) must not be forwarded")
            }
            // The client's X-Brain-Token is replaced by the gateway's own.
            #expect(values("x-brain-token").count == 1 && values("x-brain-token").first != "forged")
            // The client's tenant headers are replaced by the one the gateway fixed from the token.
            #expect(values("x-tenant-id") == [TestTokens.tenantA])
            #expect(values("host") == ["127.0.0.1:\(backend.port)"])
            #expect(values("x-forwarded-for") == ["203.0.113.9, 127.0.0.1"])
            #expect(values("x-forwarded-proto") == ["http"])
            #expect(values("x-forwarded-host") == ["gateway.example"])
            #expect(values("x-request-id") == ["trace-abc.123"])
            #expect(values("x-custom") == ["kept", "twice"])
            #expect(response.header("x-request-id") == "trace-abc.123")
        }
    }

    @Test func unsafeRequestIDsAreReplaced() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, _ in
            let response = try await gateway.send("GET /svc/inspect HTTP/1.1\r\nHost: x\r\nX-Request-ID: bad id with spaces\r\nConnection: close\r\n\r\n")
            let id = try #require(response.header("x-request-id"))
            #expect(id != "bad id with spaces")
            #expect(id.count == 32)
            let sent = Self.headerPairs(try Self.inspect(response)).first { $0.0.lowercased() == "x-request-id" }?.1
            #expect(sent == id)
        }
    }

    @Test func responseHeadersAreRelayedWithoutHopByHop() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, _ in
            let cookies = try await gateway.send("GET /svc/cookies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(cookies.headers("set-cookie") == ["a=1; Path=/", "b=2; HttpOnly", "c=3, with comma; Expires=Wed, 21 Oct 2015 07:28:00 GMT"])
            let hop = try await gateway.send("GET /svc/hop HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(hop.status == 200)
            #expect(hop.header("x-public") == "visible")
            for dropped in ["x-private", "keep-alive", "proxy-connection", "trailer", "upgrade"] {
                #expect(hop.header(dropped) == nil, "\(dropped) must not reach the client")
            }
            #expect(hop.text == "ok")
        }
    }

    @Test func keepAliveConnectionsAreReusedUpstream() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            let client = HTTPClient.shared
            for _ in 0..<50 {
                let response = try await client.execute(authorized(HTTPClientRequest(url: gateway.base + "/svc/x")), timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1024)
                #expect(response.status == .ok)
            }
            // Two event loops may each open one; never one per request.
            #expect(backend.connectionCount <= 4)
            #expect(backend.requests.count == 50)
        }
    }

    @Test func theConnectionCapQueuesRequestsInsteadOfOpeningMore() async throws {
        try await withGateway(services: { oneService($0) }, configure: { $0.upstreamMaxConnections = 1 }) { gateway, backend in
            let statuses = try await withThrowingTaskGroup(of: UInt.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        let response = try await HTTPClient.shared.execute(
                            authorized(HTTPClientRequest(url: gateway.base + "/svc/slow/40")), timeout: .seconds(10))
                        _ = try await response.body.collect(upTo: 1024)
                        return response.status.code
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 12))
            // One connection per event loop at most (two loops), each carrying its queued requests
            // in turn, plus the health monitor's first probe; without the cap, about twelve.
            #expect(backend.connectionCount <= 3)
            #expect(backend.requests.count == 12)
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, _ in
            let request = "GET /svc/slow/100 HTTP/1.1\r\nHost: x\r\n\r\nGET /svc/one HTTP/1.1\r\nHost: x\r\n\r\nGET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            let bytes = try await gateway.exchange(request)
            let text = String(decoding: bytes, as: UTF8.self)
            let slow = try #require(text.range(of: "{\"slow\":100}"))
            let one = try #require(text.range(of: "{\"path\":\"/base/one\"}"))
            let live = try #require(text.range(of: "alive"))
            #expect(slow.lowerBound < one.lowerBound && one.lowerBound < live.lowerBound)
        }
    }

    @Test func pipelinedBodiesAndBothPlanesInterleave() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, _ in
            let request = "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"
                + "POST /svc/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst"
                + "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"
                + "POST /svc/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n6\r\nsecond\r\n0\r\n\r\n"
            let text = String(decoding: try await gateway.exchange(request), as: UTF8.self)
            #expect(text.components(separatedBy: "HTTP/1.1 200 OK").count == 5, "\(text)")
            let first = try #require(text.range(of: "first")), second = try #require(text.range(of: "second"))
            #expect(first.lowerBound < second.lowerBound)
        }
    }

    @Test func headResponsesOnBothPlanesCarryNoBody() async throws {
        // A body after a HEAD response would be read as the start of the next response.
        try await withGateway(services: { oneService($0) }) { gateway, _ in
            let request = "HEAD /health/live HTTP/1.1\r\nHost: x\r\n\r\nHEAD /svc/one HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /svc/one HTTP/1.1\r\nHost: x\r\n\r\nGET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            let text = String(decoding: try await gateway.exchange(request), as: UTF8.self)
            #expect(text.components(separatedBy: "HTTP/1.1 ").count == 5, "\(text)")
            // Each HEAD response's blank line is followed at once by the next status line.
            #expect(text.components(separatedBy: "\r\n\r\nHTTP/1.1 ").count == 3, "\(text)")
            #expect(text.components(separatedBy: "alive").count == 2, "\(text)")
            #expect(text.components(separatedBy: "/base/one").count == 2, "\(text)")
        }
    }

    @Test func expectContinueIsAnsweredByTheGateway() async throws {
        try await withGateway(services: { oneService($0) }) { gateway, backend in
            let response = try await gateway.exchange("POST /svc/echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
            let text = String(decoding: response, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 100 Continue\r\n"))
            #expect(text.hasSuffix("hello"))
            #expect(backend.requests.last?.headers["expect"].isEmpty == true)
        }
    }
}
