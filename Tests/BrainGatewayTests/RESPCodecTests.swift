import BrainRESP
import Foundation
import NIOCore
import Testing

/// The Redis wire protocol, without a socket: commands as Redis reads them, every reply type
/// of RESP2 and RESP3, replies split anywhere, and hostile bytes.
@Suite struct RESPCodecTests {
    private func decodeAll(_ text: String) throws -> [RESPValue] {
        var decoder = RESPDecoder()
        decoder.read(ByteBuffer(string: text))
        var values: [RESPValue] = []
        while let value = try decoder.next() { values.append(value) }
        return values
    }

    @Test func commandsAreArraysOfBulkStrings() {
        var buffer = ByteBuffer()
        RESPCommand("EVALSHA", [.text("abc"), .integer(1), .bytes(ByteBuffer(string: "k\r\n")), .integer(-42), .text("é")]).write(into: &buffer)
        #expect(String(buffer: buffer) == "*6\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n1\r\n$3\r\nk\r\n\r\n$3\r\n-42\r\n$2\r\né\r\n")
        #expect(RESPCommand("PING").name == "PING")
    }

    @Test func everyRESP2ReplyType() throws {
        let values = try decodeAll("+OK\r\n-ERR wrong\r\n:-17\r\n$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*-1\r\n*2\r\n:1\r\n*1\r\n+x\r\n")
        #expect(values == [
            .simpleString("OK"), .error("ERR wrong"), .integer(-17), .bulkString(ByteBuffer(string: "hello")), .bulkString(ByteBuffer()),
            .null, .null, .array([.integer(1), .array([.simpleString("x")])]),
        ])
        #expect(values[1].errorCode == "ERR")
    }

    @Test func everyRESP3ReplyType() throws {
        let values = try decodeAll(
            "_\r\n#t\r\n#f\r\n,3.5\r\n,-inf\r\n(12345678901234567890\r\n=15\r\ntxt:Some string\r\n%1\r\n+k\r\n:1\r\n~2\r\n:1\r\n:2\r\n>2\r\n+message\r\n+x\r\n!9\r\nERR boom!\r\n|1\r\n+ttl\r\n:3\r\n+after-attributes\r\n")
        #expect(values == [
            .null, .boolean(true), .boolean(false), .double(3.5), .double(-.infinity), .bigNumber("12345678901234567890"),
            .verbatimString(format: "txt", text: ByteBuffer(string: "Some string")), .map([.simpleString("k"), .integer(1)]),
            .set([.integer(1), .integer(2)]), .push([.simpleString("message"), .simpleString("x")]), .error("ERR boom!"),
            .simpleString("after-attributes"),
        ])
    }

    @Test(arguments: [
        "?what\r\n",             // unknown type
        "+OK\n",                 // bare LF
        "+OK\rX",                // CR not followed by LF
        ":12a\r\n",              // not a number
        ":\r\n",                 // empty number
        ":9223372036854775808\r\n", // overflow
        "$3\r\nabcd\r\n",        // payload longer than announced
        "$-2\r\n",               // negative length
        "*-2\r\n",
        "_x\r\n",                // null with content
        "#x\r\n",
        ",1.2.3\r\n",
        "%-1\r\n",               // RESP3 map has no null form
        "$2000000000\r\n",       // beyond the bulk limit
    ])
    func malformedRepliesAreRefused(_ text: String) {
        var decoder = RESPDecoder()
        decoder.read(ByteBuffer(string: text))
        #expect(throws: RESPDecoder.Failure.self) { _ = try decoder.next() }
    }

    @Test func limitsBoundDepthElementsAndLines() {
        var decoder = RESPDecoder(limits: .init(maxBulkBytes: 16, maxElements: 4, maxDepth: 3, maxLineBytes: 8))
        decoder.read(ByteBuffer(string: "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n"))
        #expect(throws: RESPDecoder.Failure.tooDeep) { _ = try decoder.next() }
        decoder = RESPDecoder(limits: .init(maxBulkBytes: 16, maxElements: 4, maxDepth: 3, maxLineBytes: 8))
        decoder.read(ByteBuffer(string: "*5\r\n"))
        #expect(throws: RESPDecoder.Failure.tooLarge) { _ = try decoder.next() }
        decoder = RESPDecoder(limits: .init(maxBulkBytes: 16, maxElements: 4, maxDepth: 3, maxLineBytes: 8))
        decoder.read(ByteBuffer(string: "+aaaaaaaaaaaaaaaaaaaaaa"))
        #expect(throws: RESPDecoder.Failure.tooLarge) { _ = try decoder.next() }
    }

    /// A line over the limit is refused whether it arrives in one read or in pieces (it used
    /// to be accepted when whole).
    @Test func anOverlongLineIsRefusedHoweverItArrives() {
        let limits = RESPDecoder.Limits(maxBulkBytes: 16, maxElements: 4, maxDepth: 3, maxLineBytes: 8)
        let line = "+" + String(repeating: "a", count: 20) + "\r\n"
        var whole = RESPDecoder(limits: limits)
        whole.read(ByteBuffer(string: line))
        #expect(throws: RESPDecoder.Failure.tooLarge) { _ = try whole.next() }
        var pieces = RESPDecoder(limits: limits)
        pieces.read(ByteBuffer(string: String(line.prefix(5))))
        #expect((try? pieces.next()) == .some(nil))
        pieces.read(ByteBuffer(string: String(line.dropFirst(5))))
        #expect(throws: RESPDecoder.Failure.tooLarge) { _ = try pieces.next() }
    }

    /// Every way of cutting a stream of replies in two, and random cuts into many pieces,
    /// decodes to exactly the replies of the whole: nothing lost, nothing framed twice.
    @Test func repliesSplitAnywhereDecodeTheSame() throws {
        let stream = "*3\r\n$5\r\nhello\r\n:42\r\n*2\r\n+a\r\n$-1\r\n-ERR x\r\n%1\r\n$1\r\nk\r\n,2.5\r\n$10\r\n0123456789\r\n_\r\n"
        let expected = try decodeAll(stream)
        #expect(expected.count == 5)
        let bytes = Array(stream.utf8)
        for cut in 0...bytes.count {
            #expect(try decode(pieces: [Array(bytes[..<cut]), Array(bytes[cut...])]) == expected, "cut at \(cut)")
        }
        var random = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var pieces: [[UInt8]] = []
            var rest = bytes[...]
            while !rest.isEmpty {
                let length = Int.random(in: 1...max(1, min(rest.count, 9)), using: &random)
                pieces.append(Array(rest.prefix(length)))
                rest = rest.dropFirst(length)
            }
            #expect(try decode(pieces: pieces) == expected)
        }
    }

    private func decode(pieces: [[UInt8]]) throws -> [RESPValue] {
        var decoder = RESPDecoder()
        var values: [RESPValue] = []
        for piece in pieces {
            decoder.read(ByteBuffer(bytes: piece))
            while let value = try decoder.next() { values.append(value) }
        }
        #expect(decoder.bufferedBytes == 0)
        return values
    }

    /// Random bytes, and valid replies with random bytes changed, never crash the decoder: each
    /// read ends in replies, a wait for more, or a refusal — and never a hang.
    @Test func randomBytesNeverCrash() {
        var random = SystemRandomNumberGenerator()
        let alphabet = Array("+-:$*_#,(=%~>|!\r\n0123456789-abcxyz".utf8)
        let valid = Array("*2\r\n$3\r\nabc\r\n%1\r\n:1\r\n#t\r\n".utf8)
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0...40, using: &random)).map { _ in alphabet.randomElement(using: &random) ?? 0 }
            } else {
                bytes = valid
                for _ in 0..<Int.random(in: 1...3, using: &random) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
            }
            var decoder = RESPDecoder(limits: .init(maxBulkBytes: 1 << 16, maxElements: 1 << 10, maxDepth: 8, maxLineBytes: 1024))
            decoder.read(ByteBuffer(bytes: bytes))
            var steps = 0
            while steps < 100, (try? decoder.next()).flatMap({ $0 }) != nil { steps += 1 }
            #expect(steps < 100)
        }
    }
}

/// The RESP fuzz corpus (Fixtures/resp-corpus, grown by scripts/fuzz-resp-decoder) replayed
/// through the `resp-decoder-fuzz` replayer: every input decodes the same at once, cut in two,
/// and byte by byte.
@Suite struct RESPFuzzCorpusTests {
    @Test func theCorpusFramesTheSameHoweverItIsRead() async throws {
        let binary = GatewayProcess.executable.deletingLastPathComponent().appendingPathComponent("resp-decoder-fuzz").path
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/resp-corpus").path
        let run = try await ChildProcess.runCapturing(binary, [corpus])
        #expect(run.status == 0, "\(run.output.prefix(3000))")
        #expect(run.output.contains(" 0 violations"), "\(run.output.prefix(300))")
    }
}
