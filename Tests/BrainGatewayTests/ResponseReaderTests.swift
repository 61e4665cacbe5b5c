import BrainInfrastructure
import NIOCore
import Testing

/// An upstream connection's bytes into response events, read by read, without sockets.
@Suite struct ResponseReaderTests {
    /// `H:<status>`, `B:<body>`, `E`, `R` for what the reader made of `reads` after a request.
    private static func events(_ reads: [String], head: Bool = false, closeAfter: Bool = false) -> [String] {
        var reader = ResponseReader()
        reader.expectResponse(toHead: head)
        var seen: [String] = []
        func drain() {
            while let event = reader.next() {
                switch event {
                case .head(let h): seen.append("H:\(h.status.code)")
                case .body(let b): seen.append("B:" + String(buffer: b))
                case .end: seen.append("E")
                case .refused: seen.append("R")
                }
            }
        }
        for read in reads {
            reader.read(ByteBuffer(string: read))
            drain()
        }
        if closeAfter, case .end = reader.connectionClosed() { seen.append("E") }
        return seen
    }

    private static func body(_ events: [String]) -> String { events.filter { $0.hasPrefix("B:") }.map { $0.dropFirst(2) }.joined() }

    @Test func aLengthDelimitedResponseSplitAnywhereReadsTheSame() {
        let bytes = Array("HTTP/1.1 200 OK\r\nContent-Length: 11\r\nServer: x\r\n\r\nhello world".utf8)
        for split in 1..<bytes.count {
            let seen = Self.events([String(decoding: bytes[..<split], as: UTF8.self), String(decoding: bytes[split...], as: UTF8.self)])
            #expect(seen.first == "H:200" && Self.body(seen) == "hello world" && seen.last == "E", "split at \(split): \(seen)")
        }
    }

    @Test func chunkedAndCloseDelimitedBodies() {
        let chunked = Self.events(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "0\r\n\r\n"])
        #expect(chunked == ["H:200", "B:hello", "E"])
        let untilClose = Self.events(["HTTP/1.1 200 OK\r\n\r\nstream", "ing"], closeAfter: true)
        #expect(untilClose == ["H:200", "B:stream", "B:ing", "E"])
    }

    @Test func bodylessAnswersEndAtTheHead() {
        #expect(Self.events(["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"], head: true) == ["H:200", "E"])
        #expect(Self.events(["HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"]) == ["H:304", "E"])
        #expect(Self.events(["HTTP/1.1 204 No Content\r\n\r\n"]) == ["H:204", "E"])
    }

    @Test func informationalResponsesAreReadPast() {
        let seen = Self.events(["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"])
        #expect(seen == ["H:201", "B:ok", "E"])
    }

    @Test func malformedOrUnaskedResponsesAreRefused() {
        #expect(Self.events(["HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"]) == ["R"])
        #expect(Self.events(["HTTP/1.1 101 Switching Protocols\r\n\r\n"]) == ["R"])
        #expect(Self.events(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]) == ["H:200", "R"])
        #expect(Self.events(["garbage\r\n\r\n"]) == ["R"])
        // Nothing is read when no request went out, and the bytes stay (the connection is unfit).
        var idle = ResponseReader()
        idle.read(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
        #expect(idle.next() == nil)
        #expect(idle.hasBufferedBytes)
    }

    @Test func bytesBeyondTheResponseAreLeftOver() {
        var reader = ResponseReader()
        reader.expectResponse(toHead: false)
        reader.read(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Long-Field-Name: a value longer than fifteen\r\n\r\nokEXTRA"))
        guard case .head(let head) = reader.next() else { Issue.record("no head"); return }
        #expect(head.headers.first(name: "x-long-field-name") == "a value longer than fifteen")
        #expect(head.isKeepAlive)
        guard case .body = reader.next(), case .end = reader.next() else { Issue.record("no body and end"); return }
        #expect(reader.hasBufferedBytes)
        #expect(!reader.isReadingResponse)
        // A second request cannot be expected while the first is read.
        var busy = ResponseReader()
        #expect(Bool(busy.expectResponse(toHead: false)))
        #expect(!Bool(busy.expectResponse(toHead: false)))
    }

    @Test func anHTTP10ResponseClosesTheConnection() {
        var reader = ResponseReader()
        reader.expectResponse(toHead: false)
        reader.read(ByteBuffer(string: "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"))
        guard case .head(let head) = reader.next() else { Issue.record("no head"); return }
        #expect(!head.isKeepAlive)
        #expect(head.status == .ok)
    }
}
