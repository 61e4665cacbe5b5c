import BrainHTTP1
import Testing

/// The chunked body decoder: data spans out of each read, strict sizes, extensions, trailers,
/// the smuggling vectors, and the same result whether the body arrives whole or byte by byte.
@Suite struct ChunkedBodyDecoderTests {
    /// Decodes `reads` in turn: the body, whether it ended, and the refusal if any.
    static func decode(_ reads: [[UInt8]], decoder: ChunkedBodyDecoder = .init()) -> (body: [UInt8], ended: Bool, refusal: String?) {
        var decoder = decoder
        var body: [UInt8] = []
        for read in reads {
            var index = 0
            loop: while true {
                let step = read.withUnsafeBytes { decoder.next($0, index: &index) }
                switch step {
                case .data(let span): body += read[span.start..<span.end]
                case .needMore: break loop
                case .end: return (body, true, nil)
                case .refused(let reason): return (body, false, reason)
                }
            }
        }
        return (body, false, nil)
    }

    static func whole(_ text: String) -> (body: [UInt8], ended: Bool, refusal: String?) { decode([Array(text.utf8)]) }

    @Test func aBodyWithExtensionsAndTrailersDecodesWholeOrByteByByte() {
        let text = "5;name=\"va;l\\\"ue\"\r\nhello\r\nA\r\n, world!!!\r\n0\r\nChecksum: abc\r\nX-T: 1\r\n\r\nGET /next"
        let once = Self.whole(text)
        #expect(String(decoding: once.body, as: UTF8.self) == "hello, world!!!" && once.ended && once.refusal == nil)
        let bytes = Array(text.utf8)
        let split = Self.decode(bytes.map { [$0] })
        #expect(split.body == once.body && split.ended)
        // The decoder stops at the end of the body: the next message is not consumed.
        var decoder = ChunkedBodyDecoder()
        var index = 0
        var step = ChunkedBodyDecoder.Step.needMore
        repeat { step = bytes.withUnsafeBytes { decoder.next($0, index: &index) } } while step != .end
        #expect(String(decoding: bytes[index...], as: UTF8.self) == "GET /next")
    }

    @Test(arguments: [
        "zz\r\nabc\r\n0\r\n\r\n",
        "-1\r\nabc\r\n0\r\n\r\n",
        "+3\r\nabc\r\n0\r\n\r\n",
        " 3\r\nabc\r\n0\r\n\r\n",
        "fffffffffffffffff1\r\nabc\r\n0\r\n\r\n",
        "3\nabc\r\n0\r\n\r\n",
        "3\r\nabcd\r\n0\r\n\r\n",
        "3\r\nabc\n0\r\n\r\n",
        "3;ext\u{1}=x\r\nabc\r\n0\r\n\r\n",
        "3\r\nabc\r\n0\r\nBad Trailer: x\r\n\r\n",
        "3\r\nabc\r\n0\r\nNoColon\r\n\r\n",
        "3\r\nabc\r\n0\r\nX: a\u{0}b\r\n\r\n",
        "3\r\nabc\r\n0\r\n\n",
        "\r\n3\r\nabc\r\n0\r\n\r\n",
        "3 \r\nabc\r\n0\r\n\r\n",
        "3;=x\r\nabc\r\n0\r\n\r\n",
        "3;a=\r\nabc\r\n0\r\n\r\n",
        "3;a=\"x\" \r\nabc\r\n0\r\n\r\n",
    ])
    func malformedBodiesAreRefused(_ text: String) {
        let result = Self.whole(text)
        #expect(result.refusal != nil && !result.ended, "\(text.debugDescription): \(result)")
    }

    @Test func limits() {
        let big = Self.decode([Array("10000\r\n".utf8)], decoder: ChunkedBodyDecoder(maxChunkSize: 0xFFFF))
        #expect(big.refusal != nil)
        let trailers = "0\r\n" + String(repeating: "X-Long: aaaaaaaaaaaaaaaaaaaa\r\n", count: 100) + "\r\n"
        #expect(Self.decode([Array(trailers.utf8)], decoder: ChunkedBodyDecoder(maxTrailerBytes: 1024)).refusal != nil)
        #expect(Self.whole("0\r\n\r\n").ended && Self.whole("0\r\n\r\n").body.isEmpty)
        #expect(Self.whole("3\r\nab").refusal == nil && !Self.whole("3\r\nab").ended)
    }
}
