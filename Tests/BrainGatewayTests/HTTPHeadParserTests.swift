import BrainHTTP1
import Foundation
import Testing

/// The gateway's own HTTP/1.1 head parser: spans into the bytes, framing and connection
/// semantics, every hostile head refused, limits, and agreement with llhttp (NIO's decoder plus
/// the gateway's Host rule) on thousands of mutated heads.
@Suite struct HTTPHeadParserTests {
    static func request(_ text: String, limits: HTTPHeadParser.Limits = .init()) -> HTTPHeadParser.Outcome<ParsedRequestHead> {
        Array(text.utf8).withUnsafeBytes { HTTPHeadParser.parseRequest($0, limits: limits) }
    }

    static func response(_ text: String, head: Bool = false, limits: HTTPHeadParser.Limits = .init()) -> HTTPHeadParser.Outcome<ParsedResponseHead> {
        Array(text.utf8).withUnsafeBytes { HTTPHeadParser.parseResponse($0, requestMethodWasHead: head, limits: limits) }
    }

    static func text(_ source: String, _ span: HeadSpan) -> String {
        String(decoding: Array(source.utf8)[span.start..<span.end], as: UTF8.self)
    }

    @Test func aRequestHeadIsReadAsSpans() throws {
        let source = "\r\nPOST /svc/items?id=7 HTTP/1.1\r\nHost: example\r\nContent-Length: 12\r\nX-Empty:\r\nX-Padded: \t a b \t\r\n\r\nbody follows"
        guard case .complete(let head) = Self.request(source) else { Issue.record("not complete: \(Self.request(source))"); return }
        #expect(Self.text(source, head.method) == "POST" && Self.text(source, head.target) == "/svc/items?id=7" && head.minorVersion == 1)
        #expect(head.fields.map { Self.text(source, $0.name) } == ["Host", "Content-Length", "X-Empty", "X-Padded"])
        #expect(head.fields.map { Self.text(source, $0.value) } == ["example", "12", "", "a b"])
        #expect(head.semantics.framing == .length(12) && !head.semantics.close && head.semantics.hostCount == 1)
        #expect(head.length == source.utf8.count - "body follows".utf8.count)
    }

    @Test func framingAndConnectionSemantics() {
        func semantics(_ text: String) -> HeadSemantics? {
            if case .complete(let head) = Self.request(text) { return head.semantics }
            return nil
        }
        #expect(semantics("GET / HTTP/1.1\r\nHost: x\r\n\r\n")?.framing == BodyFraming.none)
        #expect(semantics("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n")?.framing == .chunked)
        #expect(semantics("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")?.framing == BodyFraming.none)
        #expect(semantics("GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Close\r\n\r\n")?.close == true)
        #expect(semantics("GET / HTTP/1.0\r\n\r\n")?.close == true)
        #expect(semantics("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")?.close == false)
        #expect(semantics("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")?.upgrade == true)
        #expect(semantics("PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n")?.expectContinue == true)
    }

    /// The head-level vectors of the hostile-input suite, refused by the parser itself.
    @Test(arguments: [
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX-Evil: a\rInjected: yes\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX-Evil: a\nInjected: yes\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n",
        "GET / HTTP/1.1\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX-Evil: a\u{0}b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n: empty name\r\n\r\n",
        "GET / HTTP/1.1\r\nHo st: x\r\n\r\n",
        "GET /a\u{1}b HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX: \u{7F}\r\n\r\n",
        "GET / HTTPS/1.1\r\nHost: x\r\n\r\n",
    ])
    func hostileHeadsAreRefused(_ text: String) {
        guard case .refused(let refusal) = Self.request(text) else { Issue.record("accepted: \(text.debugDescription)"); return }
        #expect(refusal.status == 400, "\(text.debugDescription): \(refusal)")
    }

    @Test func everyPrefixIsIncompleteAndLimitsAreKept() {
        let text = "PATCH /svc/x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nX-A: b\r\n\r\n"
        let bytes = Array(text.utf8)
        for end in 0..<bytes.count {
            let outcome = Array(bytes[..<end]).withUnsafeBytes { HTTPHeadParser.parseRequest($0) }
            #expect(outcome == .incomplete, "prefix of \(end) bytes: \(outcome)")
        }
        #expect(Self.request("GET / HTTP/2.0\r\nHost: x\r\n\r\n") == .refused(.unsupportedVersion))
        let limits = HTTPHeadParser.Limits(maxHeadBytes: 64, maxFields: 3)
        let long = "GET /" + String(repeating: "a", count: 80)
        guard case .refused(.tooLarge) = Self.request(long, limits: limits) else { Issue.record("a long head is not refused"); return }
        let many = "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"
        guard case .refused(.tooLarge) = Self.request(many, limits: limits) else { Issue.record("too many fields are not refused"); return }
        // Whole in one read, the head is held to the limit just the same.
        let whole = "GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + String(repeating: "a", count: 60) + "\r\n\r\n"
        guard case .refused(.tooLarge) = Self.request(whole, limits: limits) else { Issue.record("a long complete head is not refused"); return }
        guard case .refused(.tooLarge) = Self.response("HTTP/1.1 200 OK\r\nX-Long: " + String(repeating: "a", count: 60) + "\r\n\r\n", limits: limits)
        else { Issue.record("a long complete response head is not refused"); return }
    }

    @Test func responseHeads() {
        func framing(_ text: String, head: Bool = false) -> BodyFraming? {
            if case .complete(let parsed) = Self.response(text, head: head) { return parsed.semantics.framing }
            return nil
        }
        guard case .complete(let ok) = Self.response("HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello") else { Issue.record("no"); return }
        #expect(ok.status == 201 && ok.semantics.framing == .length(5) && ok.length == 43)
        #expect(framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") == .chunked)
        #expect(framing("HTTP/1.1 200 OK\r\n\r\n") == .untilClose)
        #expect(framing("HTTP/1.1 200\r\nContent-Length: 9\r\n\r\n", head: true) == BodyFraming.none)
        for status in ["204 No Content", "304 Not Modified", "101 Switching Protocols"] {
            #expect(framing("HTTP/1.1 \(status)\r\nContent-Length: 9\r\n\r\n") == BodyFraming.none)
        }
        #expect(framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n") == .untilClose)
        for bad in [
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 200 OK\nX: y\r\n\r\n",
            "HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 099 Low\r\n\r\n", "HTTP/1.1 200 O\u{0}K\r\n\r\n",
        ] {
            guard case .refused = Self.response(bad) else { Issue.record("accepted: \(bad.debugDescription)"); continue }
        }
    }

    // MARK: Agreement with llhttp

    /// The fuzz corpus (Fixtures/head-corpus, grown by scripts/fuzz-head-parser) and random
    /// mutations of each head (about 30,000 heads in all), judged by this parser and by llhttp
    /// through the `head-parser-fuzz` replayer: no disagreement beyond the documented ones.
    @Test func agreesWithLlhttpOnTheCorpusAndItsMutations() async throws {
        let binary = GatewayProcess.executable.deletingLastPathComponent().appendingPathComponent("head-parser-fuzz").path
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/head-corpus").path
        // About 30,000 heads in all, whatever the corpus has grown to.
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus).count
        let mutations = max(10, 30_000 / max(1, files))
        // And 15,000 chunked bodies (5 seeds and their mutations) through ChunkedBodyDecoder.
        let run = try await ChildProcess.runCapturing(binary, ["--mutations", String(mutations), "--body-mutations", "3000", "--seed", "7", corpus])
        #expect(run.status == 0, "\(run.output.prefix(3000))")
        let judged = run.output.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        #expect(judged >= 40_000, "\(run.output.prefix(200))")
    }
}
