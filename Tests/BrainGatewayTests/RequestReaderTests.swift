@testable import BrainAPI
import BrainHTTP1
import NIOCore
import Testing

/// A client connection's bytes into request events, read by read, without sockets.
@Suite struct RequestReaderTests {
    /// What the reader made of `reads`, as text: `H:<method> <uri>`, `B:<body>`, `E`, `R:<status>`.
    private static func events(_ reads: [String], limits: HTTPHeadParser.Limits = .init()) -> [String] {
        var reader = RequestReader(limits: limits)
        var seen: [String] = []
        for read in reads {
            reader.read(ByteBuffer(string: read))
            while let event = reader.next() {
                switch event {
                case .head(let head): seen.append("H:\(head.method.rawValue) \(head.uri)")
                case .body(let body): seen.append("B:" + String(buffer: body))
                case .end: seen.append("E")
                case .refused(let refusal): seen.append("R:\(refusal.status)")
                }
            }
        }
        return seen
    }

    @Test func pipelinedRequestsInOneReadComeOutInOrder() {
        let bytes = "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcDELETE /c HTTP/1.1\r\nHost: x\r\n\r\n"
        #expect(Self.events([bytes]) == ["H:GET /a", "E", "H:POST /b", "B:abc", "E", "H:DELETE /c", "E"])
    }

    @Test func aHeadAndBodySplitAnywhereAreReadTheSame() {
        let bytes = "PUT /p?q=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789GET /n HTTP/1.1\r\nHost: x\r\n\r\n"
        for split in 1..<bytes.utf8.count {
            let utf8 = Array(bytes.utf8)
            let reads = [String(decoding: utf8[..<split], as: UTF8.self), String(decoding: utf8[split...], as: UTF8.self)]
            let seen = Self.events(reads)
            let body = seen.filter { $0.hasPrefix("B:") }.map { $0.dropFirst(2) }.joined()
            #expect(seen.first == "H:PUT /p?q=1" && body == "0123456789" && seen.suffix(3) == ["E", "H:GET /n", "E"], "split at \(split): \(seen)")
        }
    }

    @Test func chunkedBodiesAreDecodedAcrossReads() {
        let seen = Self.events([
            "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "lo\r\n6;ext=1\r\n world\r\n0\r\n",
            "Trailer-Field: t\r\n\r\nGET /d HTTP/1.1\r\nHost: x\r\n\r\n",
        ])
        #expect(seen.first == "H:POST /c")
        #expect(seen.filter { $0.hasPrefix("B:") }.map { $0.dropFirst(2) }.joined() == "hello world")
        #expect(seen.suffix(3) == ["E", "H:GET /d", "E"])
    }

    @Test func refusalsStopTheConnection() {
        #expect(Self.events(["GET /a HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"]) == ["R:400"])
        #expect(Self.events(["GET /a HTTP/2.0\r\nHost: x\r\n\r\n"]) == ["R:505"])
        #expect(Self.events(["POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]) == ["H:POST /a", "R:400"])
        let long = "GET /a HTTP/1.1\r\nHost: x\r\nX: " + String(repeating: "a", count: 200)
        #expect(Self.events([long, "\r\n\r\n"], limits: .init(maxHeadBytes: 100, maxFields: 10)) == ["R:431"])
        // Nothing is read after a refusal.
        var reader = RequestReader(limits: .init())
        reader.read(ByteBuffer(string: "GET / HTTP/9.9\r\n\r\n"))
        _ = reader.next()
        reader.read(ByteBuffer(string: "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(reader.next() == nil)
    }

    @Test func nothingIsParsedAfterAnUpgradeRequest() {
        let seen = Self.events(["GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\u{81}\u{05}hello"])
        #expect(seen == ["H:GET /ws", "E"])
    }

    @Test func unreadBytesWaitInTheReader() {
        var reader = RequestReader(limits: .init())
        reader.read(ByteBuffer(string: "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"))
        guard case .head(let first) = reader.next() else { Issue.record("no head"); return }
        #expect(first.uri == "/a")
        #expect(reader.hasBufferedBytes)
        guard case .end = reader.next() else { Issue.record("no end"); return }
        // The owner asks again only when the response is out: the second request is still there.
        guard case .head(let second) = reader.next() else { Issue.record("no second head"); return }
        #expect(second.uri == "/b")
    }

    @Test func headFieldsAreReadFromTheBytes() {
        var reader = RequestReader(limits: .init())
        reader.read(ByteBuffer(string: "OPTIONS /x HTTP/1.0\r\nHost: h\r\nX-Request-ID: abc\r\nAccept: a, b\r\nAccept:  c \r\nExpect: 100-continue\r\n\r\n"))
        guard case .head(let head) = reader.next() else { Issue.record("no head"); return }
        #expect(head.method == .OPTIONS)
        #expect(head.version == .http1_0)
        #expect(!head.isKeepAlive)
        #expect(head.expectsContinue)
        #expect(head.headers.first(name: "x-request-id") == "abc")
        #expect(head.headers.first(name: "X-REQUEST-ID") == "abc")
        #expect(head.headers.contains(name: "host"))
        #expect(!head.headers.contains(name: "hos"))
        #expect(head.headers["accept"] == ["a, b", "c"])
        #expect(head.headers[canonicalForm: "accept"] == ["a", "b", "c"])
        #expect(head.nioHead().headers.count == 5)
        #expect(Array(head.headers).map(\.name) == ["Host", "X-Request-ID", "Accept", "Accept", "Expect"])
    }
}
